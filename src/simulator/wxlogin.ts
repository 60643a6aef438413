// The simulator's wxLogin.js: like WeChat's, it draws the qrconnect page in an iframe
// inside the element `id`. `redirect_uri` arrives URL-encoded, as WeChat documents.

export function wxLoginJs(connectOrigin: string): string {
  return `(function(){
function WxLogin(e){
  var q='appid='+e.appid+'&scope='+e.scope+'&redirect_uri='+e.redirect_uri+'&state='+(e.state||'')
    +'&login_type=jssdk&self_redirect='+(e.self_redirect?'true':'false')
    +(e.style?'&style='+e.style:'')+(e.href?'&href='+e.href:'')+(e.lang==='en'?'&lang=en':'');
  var f=document.createElement('iframe');
  f.src=${JSON.stringify(connectOrigin)}+'/connect/qrconnect?'+q;
  f.frameBorder='0';f.scrolling='no';f.width='300px';f.height='400px';
  f.setAttribute('allow','local-network-access');
  var el=document.getElementById(e.id);el.innerHTML='';el.appendChild(f);
}
window.WxLogin=WxLogin;
})();`;
}
