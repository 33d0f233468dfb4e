package pingserver

import (
	"time"

	"github.com/pbxauth/pbxauth/web/users"
)

// Extension is one extension as the API answers it: the fields of the
// vendor's document, and Domain, ours, so that a client can show a company.
type Extension struct {
	Name      string   `json:"name"`
	Email     string   `json:"email"`
	Extension string   `json:"extension"`
	Profile   *string  `json:"profile"` // null without one
	Available bool     `json:"available"`
	Until     string   `json:"until"` // UntilLayout; NoUntil without an end
	Message   string   `json:"message"`
	Calls     []Call   `json:"calls"`    // never null
	KeyWords  []string `json:"keyWords"` // never null
	Domain    string   `json:"domain"`
}

// Call is a call under way on an extension.
type Call struct {
	CallerID string `json:"callerid"` // the far end
	// LineStatus is "up", "down" or "ringing".
	LineStatus string `json:"linestatus"`
	// Direction is "out", "in" or "unknown".
	Direction string `json:"direction"`
}

// UntilLayout is the layout of Extension.Until, in the server's local time
// zone; NoUntil is its value when the profile has no end.
const (
	UntilLayout = "2006-01-02 15:04:05"
	NoUntil     = "0000-00-00 00:00:00"
)

// Presence is what an extension says about its user besides the directory's
// name, e-mail and number.
type Presence struct {
	// Profile describes the user's status, such as "At lunch"; "" for none
	// (null in the reply).
	Profile string
	// Away makes the user unavailable; the zero Presence is available.
	Away bool
	// Until is when the profile ends; zero for no end.
	Until time.Time
	// Message is more for callers, such as whom to call instead.
	Message  string
	Calls    []Call
	KeyWords []string
}

// DemoPresence returns the demo users' presence for a server started at
// start: bob is at lunch for the hour after it, and has a call; alice and
// carol are available, without a profile.
func DemoPresence(start time.Time) map[string]Presence {
	return map[string]Presence{
		"bob": {
			Profile:  "At lunch",
			Away:     true,
			Until:    start.Add(time.Hour).Truncate(time.Minute),
			Message:  "Back after lunch; for building work call alice on 40",
			Calls:    []Call{{CallerID: "+46812345678", LineStatus: "up", Direction: "in"}},
			KeyWords: []string{"building", "repairs"},
		},
	}
}

// extension is u's extension object.
func (h *Handler) extension(u *users.User) Extension {
	p := h.presence[u.Login] // none: available, nothing to say
	x := Extension{
		Name:      u.Name,
		Email:     u.Email,
		Extension: u.Extension,
		Available: !p.Away,
		Until:     NoUntil,
		Message:   p.Message,
		Calls:     p.Calls,
		KeyWords:  p.KeyWords,
		Domain:    u.Domain,
	}
	if x.Name == "" {
		x.Name = u.Login
	}
	if p.Profile != "" {
		x.Profile = &p.Profile
	}
	if !p.Until.IsZero() {
		x.Until = FormatUntil(p.Until)
	}
	if x.Calls == nil {
		x.Calls = []Call{}
	}
	if x.KeyWords == nil {
		x.KeyWords = []string{}
	}
	return x
}

// FormatUntil writes t as Extension.Until does: UntilLayout in the server's
// local time zone.
func FormatUntil(t time.Time) string {
	return t.In(time.Local).Format(UntilLayout)
}
