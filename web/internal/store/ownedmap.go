package store

import "container/list"

// bounds cap an ownedMap; 0 (or less) is no cap.
type bounds struct {
	PerOwner int // entries of one owner
	Total    int // entries in all
}

// ownedMap is the map under Sessions and Tokens: entries that each belong
// to an owner (a user id), kept in the order they were added, with a cap on
// the entries of one owner and a cap on all of them. Adding over a cap drops
// the oldest entry, of that owner or of all, so that no one user, and no
// flood of logins, can make the server hold more than the caps.
//
// It is not safe for concurrent use: its store guards it with its lock. Its
// zero value is not usable; call newOwnedMap.
type ownedMap[K comparable, V any] struct {
	entries map[K]*entry[K, V]
	all     *list.List           // every entry, oldest first
	owners  map[int64]*list.List // each owner's entries, oldest first
}

type entry[K comparable, V any] struct {
	key   K
	owner int64
	value V
	inAll *list.Element
	inOwn *list.Element
}

// newOwnedMap returns an empty map.
func newOwnedMap[K comparable, V any]() *ownedMap[K, V] {
	return &ownedMap[K, V]{entries: map[K]*entry[K, V]{}, all: list.New(), owners: map[int64]*list.List{}}
}

// Add puts value under key for owner, as the newest entry (replacing one
// with the same key), then drops the oldest entries of owner while it has
// more than caps.PerOwner, and the oldest of all while there are more than
// caps.Total. It returns the values it dropped, oldest first, for the caller
// to tell of their end; the value just added is never among them.
func (m *ownedMap[K, V]) Add(key K, owner int64, value V, caps bounds) []V {
	m.Delete(key)
	e := &entry[K, V]{key: key, owner: owner, value: value}
	e.inAll = m.all.PushBack(e)
	own := m.owners[owner]
	if own == nil {
		own = list.New()
		m.owners[owner] = own
	}
	e.inOwn = own.PushBack(e)
	m.entries[key] = e

	var dropped []V
	for caps.PerOwner > 0 && own.Len() > caps.PerOwner {
		dropped = append(dropped, m.remove(own.Front().Value.(*entry[K, V])))
	}
	for caps.Total > 0 && m.all.Len() > caps.Total {
		dropped = append(dropped, m.remove(m.all.Front().Value.(*entry[K, V])))
	}
	return dropped
}

// Get returns the value under key.
func (m *ownedMap[K, V]) Get(key K) (V, bool) {
	e, ok := m.entries[key]
	if !ok {
		var zero V
		return zero, false
	}
	return e.value, true
}

// Delete removes the entry under key and returns its value.
func (m *ownedMap[K, V]) Delete(key K) (V, bool) {
	e, ok := m.entries[key]
	if !ok {
		var zero V
		return zero, false
	}
	return m.remove(e), true
}

// DeleteFunc removes every entry whose value gone reports, and returns their
// values, oldest first.
func (m *ownedMap[K, V]) DeleteFunc(gone func(V) bool) []V {
	var out []V
	for el := m.all.Front(); el != nil; {
		e := el.Value.(*entry[K, V])
		el = el.Next()
		if gone(e.value) {
			out = append(out, m.remove(e))
		}
	}
	return out
}

// Values returns every value, oldest first.
func (m *ownedMap[K, V]) Values() []V {
	out := make([]V, 0, m.all.Len())
	for el := m.all.Front(); el != nil; el = el.Next() {
		out = append(out, el.Value.(*entry[K, V]).value)
	}
	return out
}

// Len returns the number of entries.
func (m *ownedMap[K, V]) Len() int { return m.all.Len() }

// Owned returns the number of entries of owner.
func (m *ownedMap[K, V]) Owned(owner int64) int {
	if own := m.owners[owner]; own != nil {
		return own.Len()
	}
	return 0
}

func (m *ownedMap[K, V]) remove(e *entry[K, V]) V {
	delete(m.entries, e.key)
	m.all.Remove(e.inAll)
	own := m.owners[e.owner]
	own.Remove(e.inOwn)
	if own.Len() == 0 {
		delete(m.owners, e.owner)
	}
	return e.value
}
