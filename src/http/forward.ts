// Passing a request on to another server as it came (method, query string, body, content
// type), for a receiver that shares a URL with that server: WeChat gives an Official
// Account one server address (服务器地址), so the broker forwards the pushes it receives
// there to the company's own server. The answer counts only when it comes within the
// deadline and is small; otherwise there is none.

/** What was received, as it was received. */
export interface Received {
  readonly method: string;
  /** The query string, without `?`. */
  readonly query: string;
  readonly body: string;
  readonly contentType: string;
}

export interface Forwarded {
  readonly status: number;
  readonly body: string;
}

const MAX_ANSWER = 64 * 1024;

/** `received`, sent to `url` (its own query kept, the received one appended); the answer, or undefined when there was none in time. */
export async function forward(url: string, received: Received, deadlineMs: number): Promise<Forwarded | undefined> {
  const target = `${url}${url.includes('?') ? '&' : '?'}${received.query}`;
  try {
    const response = await fetch(target, {
      method: received.method, body: received.body, redirect: 'manual', signal: AbortSignal.timeout(deadlineMs),
      headers: received.contentType ? { 'content-type': received.contentType } : {},
    });
    const body = await response.text();
    return body.length > MAX_ANSWER ? undefined : { status: response.status, body };
  } catch {
    return undefined;
  }
}
