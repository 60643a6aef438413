// WeChat avatars (`headimgurl`) are often http:// URLs on *.qlogo.cn, which also serves
// HTTPS. The broker only hands out https pictures.

export function httpsAvatar(headimgurl: string | undefined): string | undefined {
  if (!headimgurl) return undefined;
  let url: URL;
  try {
    url = new URL(headimgurl);
  } catch {
    return undefined;
  }
  if (url.protocol === 'https:') return url.href;
  if (url.protocol === 'http:' && (url.hostname === 'qlogo.cn' || url.hostname.endsWith('.qlogo.cn'))) {
    url.protocol = 'https:';
    return url.href;
  }
  return undefined;
}
