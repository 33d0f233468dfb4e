package auth

import "context"

// Tabs keeps the page's tabs in step: a page open in several tabs follows a
// logout, a login or a change of user made in any of them, at once and
// without asking the server on a timer. The browser's implementation is the
// storage event of the page origin's localStorage (jsbridge.Tabs), which
// reaches a tab only after the token a login saved; tabs of other origins
// never hear it.
//
// Only the fact travels, and the PBX it concerns: no session, token or
// user. A tab that hears it checks its own login again, in its queue's
// order, exactly as a reload would (its session, else the cookie, else the
// origin's saved token), so it ends up where a reload would put it: logged
// out when the other tab's logout ended the login it shared, logged in when
// the other tab's login saved a token it can use, and unchanged when it
// holds a login of its own (a sub-ID's).
type Tabs interface {
	// Announce tells the other tabs that this tab's login to the PBX at
	// host changed.
	Announce(host string)
}

// TabChanged is what a tab hears from another: the login to the PBX at host
// changed there. If host is this client's, the client checks its login
// again after the calls made before; the properties, OnChange and, where
// the login ended, the feed (errno 2, as the server ends it) follow.
func (c *Client) TabChanged(host string) {
	c.mu.Lock()
	ours := host != "" && host == c.api.String()
	c.mu.Unlock()
	if ours {
		c.enqueue(context.Background(), Call{kind: kindOtherTab})
	}
}

// announces reports whether a call is one of the page's that may change the
// login, so that the other tabs hear of it when it did.
func (c Call) announces() bool {
	switch c.kind {
	case kindLogin:
		return !c.login.CheckOnly
	case kindLogout, kindExit, kindCompany:
		return true
	}
	return false
}

// otherTab checks the login again after another tab's change: what it finds
// holds, and a failure to ask (the network) keeps what was known.
func (c *Client) otherTab(p *Pending) error {
	err := c.check(p, c.savedTokens(p, Options{}))
	if CodeOf(err) == CodeLoginRequired {
		return nil
	}
	return err
}
