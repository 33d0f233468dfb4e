package backend

import "strconv"

// Failure turns a reply that is not a success into an *Error: 401 means the
// login is missing or refused, 403 forbidden, anything else the server's
// fault. what names the system, for the message.
func Failure(what, host string, resp *Response, refused Code) *Error {
	status := "HTTP " + strconv.Itoa(resp.Status)
	switch {
	case resp.Status == 401:
		return NewError(refused, "the "+what+" at "+host+" refused the login ("+status+")")
	case resp.Status == 403:
		return NewError(CodeForbidden, "the "+what+" at "+host+" does not allow this ("+status+")")
	case resp.Status >= 500:
		return NewError(CodeServer, "the "+what+" at "+host+" failed ("+status+"); try again later or ask its administrator")
	}
	return NewError(CodeServer, "the "+what+" at "+host+" refused the request ("+status+"); check that Client.SetHost names a "+what)
}

// OK reports a 2xx status.
func OK(resp *Response) bool { return resp.Status >= 200 && resp.Status < 300 }
