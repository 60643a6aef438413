// A relying party in Go: go-oidc (github.com/coreos/go-oidc) with golang.org/x/oauth2, set up
// by the README's own lines ("With your library"): test/helpers/go-oidc.ts copies this file
// with the README's block where the marker below is (the test's issuer, client and redirect
// URI in place of the example's) and builds it. Debian's golang-go,
// golang-github-coreos-go-oidc-dev and golang-golang-x-oauth2-dev (.ci/run installs them).
//
// Usage: app <port>. /login starts a login (state and nonce in cookies); /callback finishes
// it: the code exchanged, the ID token verified by go-oidc (the signature by the broker's
// JWKS, iss, aud, expiry) and its nonce here, userinfo asked; it answers with both as JSON.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/coreos/go-oidc"
	"golang.org/x/oauth2"
)

func random() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		log.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// cookie is the value the request's cookie `name` holds, or "".
func cookie(r *http.Request, name string) string {
	if c, err := r.Cookie(name); err == nil {
		return c.Value
	}
	return ""
}

func main() {
	ctx := context.Background()
	// README
	http.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		state, nonce := random(), random()
		http.SetCookie(w, &http.Cookie{Name: "state", Value: state, Path: "/", HttpOnly: true})
		http.SetCookie(w, &http.Cookie{Name: "nonce", Value: nonce, Path: "/", HttpOnly: true})
		http.Redirect(w, r, config.AuthCodeURL(state, oidc.Nonce(nonce)), http.StatusFound)
	})
	http.HandleFunc("/callback", func(w http.ResponseWriter, r *http.Request) {
		if state := cookie(r, "state"); state == "" || r.URL.Query().Get("state") != state {
			http.Error(w, "state", http.StatusBadRequest)
			return
		}
		token, err := config.Exchange(r.Context(), r.URL.Query().Get("code"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		raw, _ := token.Extra("id_token").(string)
		idToken, err := verifier.Verify(r.Context(), raw)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		if nonce := cookie(r, "nonce"); nonce == "" || idToken.Nonce != nonce {
			http.Error(w, "nonce", http.StatusBadRequest)
			return
		}
		info, err := provider.UserInfo(r.Context(), oauth2.StaticTokenSource(token))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		var claims, userinfo map[string]interface{}
		if err := idToken.Claims(&claims); err != nil {
			log.Fatal(err)
		}
		if err := info.Claims(&userinfo); err != nil {
			log.Fatal(err)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		json.NewEncoder(w).Encode(map[string]interface{}{"id_token": claims, "userinfo": userinfo})
	})
	fmt.Println("listening on 127.0.0.1:" + os.Args[1])
	log.Fatal(http.ListenAndServe("127.0.0.1:"+os.Args[1], nil))
}
