# A relying party in Ruby: OmniAuth with GitLab's own OpenID Connect strategy
# (gitlab-omniauth-openid-connect, Debian's ruby-omniauth-openid-connect), configured by the
# README's GitLab lines ("With your library"): the `args` they give the `openid_connect`
# provider, with this test's issuer, client and redirect URI in place of the example's, are
# what the strategy gets, mounted where GitLab mounts it (/users/auth).
#
# Usage: ruby omniauth_app.rb <issuer> <client_id> <client_secret> <port>
#
# / shows a sign-in button as GitLab's (a form POST with the CSRF token OmniAuth 2 asks for);
# the strategy checks the ID token (its signature by the broker's JWKS, iss, aud, nonce) and
# reads userinfo; /users/auth/openid_connect/callback answers with OmniAuth's auth hash as
# JSON, /users/auth/failure with why it failed.

require 'json'
require 'logger'
require 'rack'
require 'rack/protection'
require 'webrick'
require 'omniauth'
require 'omniauth_openid_connect'

issuer, client_id, client_secret, port = ARGV
origin = "http://127.0.0.1:#{port}"
readme = File.read(File.expand_path('../../README.md', __dir__), encoding: 'UTF-8')
lines = readme[/```ruby\n(# GitLab.*?)```/m, 1] or abort 'the README has no ```ruby block for GitLab'
lines = lines.gsub('https://login.example.com', issuer).gsub('identifier: "gitlab"', "identifier: #{client_id.inspect}")
             .gsub('secret: "…"', "secret: #{client_secret.inspect}").gsub('https://gitlab.example.com', origin)
gitlab_rails = {}
# gitlab.rb is Ruby that sets gitlab_rails[...]: the README's lines, run as GitLab runs them.
eval(lines) # rubocop:disable Security/Eval
wechat = Array(gitlab_rails['omniauth_providers']).find { |each| each[:name] == 'openid_connect' } or abort 'the README gives no openid_connect provider'

# The test's broker is on http, where discovery would build https URLs.
SWD.url_builder = URI::HTTP
WebFinger.url_builder = URI::HTTP
OmniAuth.config.logger = Logger.new($stderr)
OmniAuth.config.path_prefix = '/users/auth'

json = ->(status, body) { [status, { 'content-type' => 'application/json; charset=utf-8' }, [JSON.generate(body)]] }
app = Rack::Builder.new do
  use Rack::Session::Cookie, secret: 'a-key-for-the-test-only-0123456789abcdef0123456789abcdef0123456789', same_site: :lax
  use OmniAuth::Builder do
    provider :openid_connect, wechat[:args]
  end
  map '/users/auth/openid_connect/callback' do
    run ->(env) { auth = env['omniauth.auth']; json.call(200, uid: auth.uid, info: auth.info.to_h, raw_info: auth.extra.raw_info.to_h) }
  end
  map '/users/auth/failure' do
    run ->(env) { json.call(502, failure: Rack::Utils.parse_query(env['QUERY_STRING'])['message']) }
  end
  map '/' do
    run lambda { |env|
      token = Rack::Protection::AuthenticityToken.token(env['rack.session'])
      form = %(<form method="post" action="/users/auth/openid_connect"><input type="hidden" name="authenticity_token" value="#{token}"><button>Sign in with #{wechat[:label]}</button></form>)
      [200, { 'content-type' => 'text/html; charset=utf-8' }, [form]]
    }
  end
end

Rack::Handler::WEBrick.run(app, Host: '127.0.0.1', Port: port.to_i, AccessLog: [],
                           StartCallback: -> { puts "listening on 127.0.0.1:#{port}"; $stdout.flush })
