// Package jsbridge connects the Go core to the browser's JavaScript and DOM.
//
// It is the browser side of the core's interfaces: fetch for the
// Transport, sessionStorage and localStorage for Storage, Web Crypto for
// randomness, the browser's WebSocket for the feed's Dialer, the login
// overlay's iframe for Prompt, and the export of IPCortex.PBX.Auth with
// Promises and JS Errors. Every call into JavaScript goes through safejs,
// so a JS exception becomes a Go error, and every entry point from
// JavaScript recovers, so a Go panic never ends the runtime.
//
// Only words.go builds outside the browser: it holds the JavaScript words
// for the core's Go names, which words_test.go checks natively.
package jsbridge

import "strings"

// goToJS pairs the Go names that the core's messages use with the names
// pages know, so that a page reads "call setHost(...) first" where a Go
// program reads "call Client.SetHost(...) first". A name that begins
// another comes after it. This file has no build tag so that words_test.go
// can check the table natively against the core's messages.
var goToJS = [...]string{
	"Client.SetHostFor", "setHost",
	"Client.SetHost", "setHost",
	"Client.SetWSHost", "setWSHost",
	"Client.GetSubID", "getSubID",
	"Client.StartFeed", "startFeed",
	"Client.SetCompany", "setCompany",
	"Client.RTCReset", "rtcReset",
	"Client.Login", "login",
	"Options.OnTokens", "tokenCB",
	"Options.Headless", "nodom",
	"Options.SubID", "subid",
	"Options.PingTime", "pingtime",
	"Options.MaxRetry", "maxWSRetryTime",
	"RetryForever", "null",
}

// jsWords rewrites a core message in the words of the JavaScript API. It
// does not use strings.ReplaceAll, which would add 5 KB to the module.
func jsWords(msg string) string {
	for i := 0; i < len(goToJS); i += 2 {
		for from := 0; ; {
			at := strings.Index(msg[from:], goToJS[i])
			if at < 0 {
				break
			}
			at += from
			msg = msg[:at] + goToJS[i+1] + msg[at+len(goToJS[i]):]
			from = at + len(goToJS[i+1])
		}
	}
	return msg
}
