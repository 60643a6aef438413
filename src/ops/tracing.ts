// Traces for the operator's tracing system (OpenTelemetry, OTLP over HTTP), when
// OTEL_EXPORTER_OTLP_ENDPOINT is set: a server span for each request (a child of the
// caller's when it sent a W3C traceparent, so the broker shows inside the app's own trace),
// and inside it a client span for each WeChat or WeCom API call, with WeChat's errcode, and
// for each storage operation (Redis or MongoDB: `Redis find Session`, one operation of the
// store's, whatever commands it sends), with on the request's span how many there were and
// how long they took in all. Each attempt to deliver a
// logout or security event token to an app's server is a client span in the trace of the
// request that caused it, and its request carries that span (`traceparent`) to the app. A
// span holds what the request line and the metrics hold (method, path without its query or a
// link's code, status, request id), never a person's data, a token, a code or a secret.
// Spans go out in batches, off the request's path; the last are sent at shutdown.

import { context, defaultTextMapGetter, diag, DiagLogLevel, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { setGlobalErrorHandler, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import type { Middleware } from 'koa';
import type { Logger } from '../log.ts';
import { endpointOf } from './metrics.ts';
import { loggedPath } from './request-log.ts';

export interface TracingSettings {
  /** The collector's base URL (OTEL_EXPORTER_OTLP_ENDPOINT): spans go to `<endpoint>/v1/traces`. */
  readonly endpoint: string;
  readonly serviceName: string;
  /** The broker's version, as the resource's `service.version` (OpenTelemetry's semantic conventions). */
  readonly serviceVersion: string;
  /** The share of requests traced (TRACES_SAMPLE_RATIO); a caller's sampled trace is always followed. */
  readonly sampleRatio: number;
}

/**
 * How long one export may take, retries included: a collector that does not answer costs
 * the broker no more than this (a stop waits for the last batch at most this long).
 */
const EXPORT_TIMEOUT_MS = 2_500;

/**
 * The exporter's own budget for an export, its retries included, within EXPORT_TIMEOUT_MS: it
 * gives up with its own reason (ECONNREFUSED, a request timed out) before the span processor's
 * timer does. With the same budget for both, the two raced, and on a busy machine the
 * processor's won and the operator's warning said only "Timeout".
 */
const EXPORTER_BUDGET_MS = 2_000;

/** The person an operator's request is about, in the admin API's and the console's paths. */
const ACCOUNT_PATH = /^(\/(?:admin|console)\/accounts\/)[^/]+/i;

/**
 * A request's path as its span gives it: as the request line writes it, without the `sub` of
 * the person an operator's request is about. A trace may go to a hosted collector, outside
 * the company; the request line and the audit line, in the company's own logs, keep the `sub`.
 */
function tracedPath(path: string): string {
  return loggedPath(path).replace(ACCOUNT_PATH, '$1…');
}

export class Tracing {
  readonly #provider: TracerProvider;
  readonly #log: Logger;
  readonly #endpoint: string;
  readonly #tracer: Tracer;
  readonly #propagator = new W3CTraceContextPropagator();
  readonly #ratio: number;
  /** The storage operations of each traced request so far: how many, and their milliseconds summed. */
  readonly #storage = new WeakMap<object, { operations: number; ms: number }>();

  constructor(settings: TracingSettings, log: Logger) {
    [this.#log, this.#endpoint, this.#ratio] = [log, settings.endpoint, settings.sampleRatio];
    // OpenTelemetry says nothing unless told where: a collector that refuses or cannot be
    // reached (every failed export), and spans dropped, are the operator's warnings.
    setGlobalErrorHandler((error) => this.#notSent(error));
    const warn = (message: string) => log.warn({ collector: settings.endpoint, reason: message }, 'tracing');
    diag.setLogger({ error: warn, warn, info: () => undefined, debug: () => undefined, verbose: () => undefined }, DiagLogLevel.WARN);
    this.#provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': settings.serviceName, 'service.version': settings.serviceVersion }),
      spanProcessors: [new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: `${settings.endpoint}/v1/traces`, timeoutMillis: EXPORTER_BUDGET_MS }), exportTimeoutMillis: EXPORT_TIMEOUT_MS,
      })],
    });
    this.#tracer = this.#provider.getTracer('wechat-oidc-broker');
    // The request's span is the parent of what runs inside it, across awaits.
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  }

  /**
   * A server span around the rest of the request, under the caller's traceparent if it sent
   * one. Outside the request line (request-log.ts), which takes its trace id from it; the
   * request id that line gives the response is read when the request ends.
   */
  middleware(): Middleware {
    return async (ctx, next) => {
      const parent = this.#propagator.extract(ROOT_CONTEXT, ctx.headers, defaultTextMapGetter);
      if (!this.#sampled(parent)) return next();
      const span = this.#tracer.startSpan(`${ctx.method} ${endpointOf(ctx.path)}`, {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': ctx.method, 'url.path': tracedPath(ctx.path) },
      }, parent);
      try {
        await context.with(trace.setSpan(parent, span), next);
      } finally {
        span.setAttributes({ 'http.response.status_code': ctx.status, 'broker.request_id': ctx.response.get('x-request-id') });
        const storage = this.#storage.get(span);
        // Summed: operations made side by side overlap, so this may exceed the request's own time.
        if (storage) span.setAttributes({ 'broker.storage.operations': storage.operations, 'broker.storage.ms': Math.round(storage.ms * 10) / 10 });
        // OpenTelemetry's HTTP conventions: a server span fails on a 5xx, not on the client's 4xx.
        if (ctx.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      }
    };
  }

  /** The trace of the span the code runs in (the request's), for the log lines (request-log.ts), when it is sent. */
  readonly traceId = (): string | undefined => {
    const span = trace.getSpan(context.active())?.spanContext();
    return span && span.traceFlags & TraceFlags.SAMPLED ? span.traceId : undefined;
  };

  /** A WeChat (or WeCom) API call that just ended, `seconds` long, as a client span of the request it ran in; `errcode`: how it failed. */
  apiCall(api: string, path: string, seconds: number, errcode?: number | string): void {
    // Only inside a traced request: never a trace of its own.
    if (!trace.getSpan(context.active())?.isRecording()) return;
    const end = Date.now();
    const span = this.#tracer.startSpan(`${api} ${path}`, {
      kind: SpanKind.CLIENT, startTime: end - seconds * 1000, attributes: { 'url.path': path, ...(errcode === undefined ? {} : { 'wechat.errcode': String(errcode) }) },
    });
    if (errcode !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: `errcode ${String(errcode)}` });
    span.end(end);
  }

  /**
   * An attempt to deliver `what` to an app's server (oidc/deliveries.ts) as a client span of
   * the trace it was queued in, though that trace's request may have ended (a retry comes
   * later); the attempt's request carries the span (`carry`). Outside a sampled trace it just runs.
   */
  async attempt(what: string, to: { readonly client: string; readonly uri: string }, number: number, attempt: () => Promise<void>): Promise<void> {
    const active = context.active();
    const parent = trace.getSpanContext(active);
    if (!parent || !(parent.traceFlags & TraceFlags.SAMPLED)) return attempt();
    // The receiver's host only: its URL's path or query may hold what the app uses to trust the push.
    const { hostname, port, protocol } = new URL(to.uri);
    const span = this.#tracer.startSpan(`POST ${what}`, {
      kind: SpanKind.CLIENT,
      attributes: {
        'http.request.method': 'POST', 'server.address': hostname, 'server.port': Number(port || (protocol === 'https:' ? 443 : 80)),
        'broker.client_id': to.client, 'broker.delivery.attempt': number,
      },
    }, active);
    try {
      await context.with(trace.setSpan(active, span), attempt);
    } catch (error) {
      span.setAttribute('error.type', String((error as { code?: unknown }).code ?? (error as Error).name));
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  }

  /** Adds to `headers` the W3C Trace Context (`traceparent`) of the span the code runs in, when it runs in one. */
  carry(headers: Headers): void {
    this.#propagator.inject(context.active(), headers, { set: (carrier, key, value) => carrier.set(key, value) });
  }

  /**
   * A storage operation that just ended, `seconds` long: a client span of the traced request
   * it ran in (an error when storage failed), and counted on the request's span.
   */
  storageOperation(store: string, seconds: number, ok: boolean, operation: string): void {
    const span = trace.getSpan(context.active());
    if (!span?.isRecording()) return;
    const spent = this.#storage.get(span) ?? { operations: 0, ms: 0 };
    this.#storage.set(span, { operations: spent.operations + 1, ms: spent.ms + seconds * 1000 });
    const end = Date.now();
    // OpenTelemetry's database conventions: the system, and the operation (the store's, not a command).
    const child = this.#tracer.startSpan(`${store} ${operation}`, {
      kind: SpanKind.CLIENT, startTime: end - seconds * 1000, attributes: { 'db.system.name': store.startsWith('MongoDB') ? 'mongodb' : 'redis', 'db.operation.name': operation },
    });
    if (!ok) child.setStatus({ code: SpanStatusCode.ERROR, message: `${store} unavailable` });
    child.end(end);
  }

  /** Sends what is left; the broker is stopping (and stops, whatever the collector does). */
  async shutdown(): Promise<void> {
    await this.#provider.shutdown().catch((error: unknown) => this.#notSent(error));
  }

  /**
   * Whether the request is traced, decided before anything of OpenTelemetry's is made for it:
   * the caller's decision when it sent a traceparent (parent-based), else TRACES_SAMPLE_RATIO's
   * share. A request left out costs next to nothing (the bench, TRACES_SAMPLE_RATIO=0: 1.01);
   * every request traced costs a tenth of a login's CPU and a quarter of a userinfo's.
   */
  #sampled(parent: typeof ROOT_CONTEXT): boolean {
    const caller = trace.getSpanContext(parent);
    return caller ? (caller.traceFlags & TraceFlags.SAMPLED) !== 0 : this.#ratio > 0 && Math.random() < this.#ratio;
  }

  #notSent(error: unknown): void {
    this.#log.warn({ collector: this.#endpoint, reason: String((error as Error | undefined)?.message ?? error) }, 'traces not sent');
  }
}
