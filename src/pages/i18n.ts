// The two languages of every page, picked from Accept-Language (zh-CN when unsure).

export type Lang = 'zh-CN' | 'en';

export function negotiateLang(acceptLanguage: string | undefined): Lang {
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([\d.]+)/.exec(p)?.[1]).find(Boolean);
      return { tag: tag.toLowerCase(), q: q === undefined ? 1 : Number(q) };
    })
    .filter(({ tag, q }) => tag !== '' && q > 0)
    .sort((a, b) => b.q - a.q);
  for (const { tag } of ranked) {
    if (tag.startsWith('zh')) return 'zh-CN';
    if (tag.startsWith('en')) return 'en';
  }
  return 'zh-CN';
}

const MESSAGES = {
  'zh-CN': {
    brand: '微信登录',
    qrTitle: '微信扫码登录',
    qrHint: '请使用微信扫描二维码，在手机上确认登录。',
    qrFallback: '二维码没有显示？打开微信登录页',
    openTitle: '请在微信中打开',
    openBody: '此页面需要在微信内打开才能登录。复制下面的链接，在微信中发送给自己或“文件传输助手”，然后点击打开。',
    openCopy: '复制链接',
    openCopied: '已复制',
    openQr: '在另一台设备上显示二维码，用微信扫码登录',
    consentTitle: '授权确认',
    consentIntro: '{client} 请求获取你的以下信息：',
    consentAllow: '同意',
    consentDeny: '拒绝',
    consent_account: '你的账号标识',
    consent_nickname: '你的微信昵称',
    consent_picture: '你的微信头像',
    consent_unionid: '在同一公司各应用中识别你的微信标识（UnionID）',
    consent_openid: '你在本次登录所用微信应用中的标识（OpenID）',
    consent_offline: '在你离开后保持登录',
    errorTitle: '无法完成登录',
    errorBack: '返回重新登录',
    error_state: '登录链接已失效或不是在此浏览器中发起的。请回到应用重新登录。',
    error_snapshot: '你正在浏览朋友圈分享的快照页面。请点击页面底部的“使用完整服务”后再登录。',
    error_misconfigured: '服务配置有误，暂时无法使用微信登录。我们已记录此问题，请稍后再试或联系管理员。',
    error_code: '微信授权未能完成，请重新登录。',
    error_unavailable: '微信暂时无法响应，请稍后再试。',
    error_storage: '登录服务暂时不可用，请稍后再试。',
    error_rate_limited: '尝试次数过多，请稍等一分钟再试。',
    error_interaction: '登录会话已过期，请回到应用重新登录。',
    error_request: '应用发来的登录请求无法处理。请回到应用重试，或联系应用的管理员。',
    notFoundTitle: '页面不存在',
    requestId: '请求编号 {id}',
    oauth_invalid_request: '应用发来的登录请求不完整或有误。请回到应用重试。',
    oauth_invalid_client: '发起登录的应用未在本服务注册或配置有误。请联系应用的管理员。',
    oauth_invalid_redirect_uri: '应用要求返回的地址未在本服务登记，为安全起见登录已停止。请联系应用的管理员。',
    oauth_unauthorized_client: '该应用无权以这种方式登录。请联系应用的管理员。',
    oauth_unsupported_response_type: '该应用使用了本服务不支持的登录方式。请联系应用的管理员。',
    oauth_invalid_scope: '应用请求了本服务不提供的信息。请联系应用的管理员。',
    oauth_access_denied: '登录已取消。',
    oauth_login_required: '需要先登录。请回到应用重新登录。',
    oauth_consent_required: '需要你的同意才能继续。请回到应用重新登录。',
    oauth_server_error: '出现了意外错误，请稍后再试。',
    oauth_temporarily_unavailable: '登录服务暂时不可用，请稍后再试。',
    oauth_invalid_grant: '登录凭证已失效。请回到应用重新登录。',
    error_not_found: '页面不存在。',
    error_conflict: '微信返回的身份信息与你的账号不一致，为保护你的账号，本次登录未完成。我们已记录此问题，请联系管理员。',
    error_internal: '出现了意外错误，请稍后再试。',
    logoutTitle: '退出登录',
    logoutQuestion: '要退出登录吗？你将退出所有使用本登录服务的应用。',
    logoutYes: '退出',
    logoutNo: '保持登录',
    backTo: '返回 {app}',
    cancel: '取消登录',
    qrFrameTitle: '微信登录二维码',
    homeTitle: '微信登录服务',
    homeBody: '这是应用用来“使用微信登录”的登录服务。请从你要使用的应用开始登录。',
    homeDemo: '试用演示应用',
    homeDiscovery: '给开发者：OpenID Connect 配置',
    footerPrivacy: '隐私政策',
    footerTerms: '服务条款',
    continueTitle: '正在继续',
    continueBody: '正在返回应用……',
    continueLink: '继续',
    loggedOutTitle: '已退出',
    loggedOutBody: '你已成功退出登录。',
  },
  en: {
    brand: 'Log in with WeChat',
    qrTitle: 'Log in with WeChat',
    qrHint: 'Scan the QR code with WeChat and confirm on your phone.',
    qrFallback: 'No QR code? Open the WeChat login page',
    openTitle: 'Open this page in WeChat',
    openBody: 'This login only works inside WeChat. Copy the link below, send it to yourself or to "File Transfer" in WeChat, and tap it there.',
    openCopy: 'Copy link',
    openCopied: 'Copied',
    openQr: 'Show a QR code to scan with WeChat on another device',
    consentTitle: 'Allow access',
    consentIntro: '{client} asks for:',
    consentAllow: 'Allow',
    consentDeny: 'Deny',
    consent_account: 'an identifier of your account',
    consent_nickname: 'your WeChat nickname',
    consent_picture: 'your WeChat avatar',
    consent_unionid: 'the WeChat identifier that recognizes you across this company\'s apps (UnionID)',
    consent_openid: 'your identifier in the WeChat app you log in through (OpenID)',
    consent_offline: 'staying signed in while you are away',
    errorTitle: 'Login could not be completed',
    errorBack: 'Back to log in again',
    error_state: 'This login link has expired or was not started in this browser. Please go back to the app and log in again.',
    error_snapshot: 'You are viewing a snapshot page shared in Moments. Tap "使用完整服务" (use the full service) at the bottom of the page, then log in.',
    error_misconfigured: 'The service is misconfigured and cannot log you in with WeChat right now. The problem has been logged; please try later or contact the administrator.',
    error_code: 'WeChat did not complete the authorization. Please log in again.',
    error_unavailable: 'WeChat is not answering right now. Please try again later.',
    error_storage: 'The login service is temporarily unavailable. Please try again in a moment.',
    error_rate_limited: 'Too many attempts. Please wait a minute and try again.',
    error_interaction: 'The login session has expired. Please go back to the app and log in again.',
    error_request: 'The app\'s login request could not be handled. Go back to the app and try again, or contact its administrator.',
    notFoundTitle: 'Page not found',
    requestId: 'request id {id}',
    oauth_invalid_request: 'The app\'s login request is incomplete or wrong. Go back to the app and try again.',
    oauth_invalid_client: 'The app that started this login is not registered here, or is misconfigured. Please contact its administrator.',
    oauth_invalid_redirect_uri: 'The app asked to be sent back to an address that is not registered here, so the login was stopped for your safety. Please contact its administrator.',
    oauth_unauthorized_client: 'This app may not log people in this way. Please contact its administrator.',
    oauth_unsupported_response_type: 'This app uses a way of logging in that this service does not offer. Please contact its administrator.',
    oauth_invalid_scope: 'The app asked for information this service does not provide. Please contact its administrator.',
    oauth_access_denied: 'The login was cancelled.',
    oauth_login_required: 'You need to log in first. Go back to the app and log in again.',
    oauth_consent_required: 'Your consent is needed to continue. Go back to the app and log in again.',
    oauth_server_error: 'Something unexpected went wrong. Please try again later.',
    oauth_temporarily_unavailable: 'The login service is temporarily unavailable. Please try again later.',
    oauth_invalid_grant: 'The login has expired. Go back to the app and log in again.',
    error_not_found: 'There is no such page.',
    error_conflict: 'WeChat\'s answer about who you are did not match your account, so to protect it you were not logged in. The problem has been logged; please contact the administrator.',
    error_internal: 'Something unexpected went wrong. Please try again later.',
    logoutTitle: 'Log out',
    logoutQuestion: 'Log out? You will be logged out of every app that uses this login service.',
    logoutYes: 'Log out',
    logoutNo: 'Stay logged in',
    backTo: 'Back to {app}',
    cancel: 'Cancel',
    qrFrameTitle: 'WeChat login QR code',
    homeTitle: 'WeChat login service',
    homeBody: 'This is the service apps use to let you log in with WeChat. Start from the app you want to use.',
    homeDemo: 'Try the demo app',
    homeDiscovery: 'For developers: the OpenID Connect configuration',
    footerPrivacy: 'Privacy policy',
    footerTerms: 'Terms of service',
    continueTitle: 'Continuing',
    continueBody: 'Taking you back to the app…',
    continueLink: 'Continue',
    loggedOutTitle: 'Logged out',
    loggedOutBody: 'You have been logged out.',
  },
} as const;

export type MessageKey = keyof (typeof MESSAGES)['en'];

export function isMessageKey(key: string): key is MessageKey {
  return Object.hasOwn(MESSAGES.en, key);
}

/** The message in `lang`, with `{name}` placeholders filled (values are escaped by the caller). */
export function t(lang: Lang, key: MessageKey, values: Record<string, string> = {}): string {
  return MESSAGES[lang][key].replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}
