"""A relying party in Python: Flask with Authlib, registered by the README's own lines.

Usage: python3 authlib_app.py <issuer> <client_id> <client_secret> <port>

/login starts a login; /callback finishes it (Authlib checks the ID token: its signature
by the broker's JWKS, iss, aud, exp, nonce) and answers with the ID token's claims and
userinfo's, as JSON. Debian's python3-flask and python3-authlib (.ci/run installs them).
"""

import json
import pathlib
import re
import sys

from authlib.integrations.flask_client import OAuth
from flask import Flask, Response

issuer, client_id, client_secret, port = sys.argv[1:5]
app = Flask(__name__)
app.secret_key = 'a-key-for-the-test-only'
oauth = OAuth(app)

# The README's registration ("With your library") as written, with this test's issuer and
# client in place of the example's: what the README promises is what runs.
readme = (pathlib.Path(__file__).parents[2] / 'README.md').read_text(encoding='utf-8')
registration = re.search(r'```python\n(# Authlib.*?)```', readme, re.S).group(1)
registration = (registration.replace('https://login.example.com', issuer)
                .replace("client_id='shop'", f'client_id={client_id!r}').replace("client_secret='…'", f'client_secret={client_secret!r}'))
exec(registration, {'oauth': oauth})
if oauth.create_client('wechat') is None:
    sys.exit('the README\'s registration registered no "wechat" client')


@app.route('/login')
def login():
    return oauth.wechat.authorize_redirect(f'http://127.0.0.1:{port}/callback')


@app.route('/callback')
def callback():
    token = oauth.wechat.authorize_access_token()
    answer = {'id_token': dict(token['userinfo']), 'userinfo': dict(oauth.wechat.userinfo(token=token))}
    return Response(json.dumps(answer, ensure_ascii=False), content_type='application/json; charset=utf-8')


app.run(host='127.0.0.1', port=int(port))
