package store

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOwnedMapAddDropsTheOwnersOldestOverItsCap(t *testing.T) {
	m := newOwnedMap[string, string]()
	caps := bounds{PerOwner: 2}
	assert.Empty(t, m.Add("a1", 1, "a1", caps))
	assert.Empty(t, m.Add("b1", 2, "b1", caps))
	assert.Empty(t, m.Add("a2", 1, "a2", caps))
	assert.Equal(t, []string{"a1"}, m.Add("a3", 1, "a3", caps), "owner 1's oldest goes")
	assert.Equal(t, []string{"b1", "a2", "a3"}, m.Values())
	assert.Equal(t, 2, m.Owned(1))
	assert.Equal(t, 1, m.Owned(2))
	_, ok := m.Get("a1")
	assert.False(t, ok)
}

func TestOwnedMapAddDropsTheOldestOfAllOverTheTotal(t *testing.T) {
	m := newOwnedMap[string, int]()
	caps := bounds{PerOwner: 10, Total: 3}
	for i, k := range []string{"a", "b", "c"} {
		assert.Empty(t, m.Add(k, int64(i), i, caps))
	}
	assert.Equal(t, []int{0, 1}, m.Add("d", 9, 3, bounds{Total: 2}))
	assert.Equal(t, []int{2, 3}, m.Values())
	assert.Equal(t, 0, m.Owned(0), "an owner whose last entry went is forgotten")
}

func TestOwnedMapAddReplacesTheSameKeyAsTheNewest(t *testing.T) {
	m := newOwnedMap[string, int]()
	caps := bounds{PerOwner: 2}
	m.Add("a", 1, 1, caps)
	m.Add("b", 1, 2, caps)
	assert.Empty(t, m.Add("a", 1, 3, caps), "a key added again is no new entry")
	assert.Equal(t, []int{2, 3}, m.Values())
	assert.Equal(t, []int{2}, m.Add("c", 1, 4, caps))
}

func TestOwnedMapNoCaps(t *testing.T) {
	m := newOwnedMap[int, int]()
	for i := range 1000 {
		assert.Empty(t, m.Add(i, 1, i, bounds{}))
	}
	assert.Equal(t, 1000, m.Len())
}

func TestOwnedMapDeleteAndDeleteFunc(t *testing.T) {
	m := newOwnedMap[int, int]()
	for i := range 6 {
		m.Add(i, int64(i%2), i, bounds{})
	}
	v, ok := m.Delete(3)
	assert.True(t, ok)
	assert.Equal(t, 3, v)
	_, ok = m.Delete(3)
	assert.False(t, ok)
	assert.Equal(t, []int{0, 2, 4}, m.DeleteFunc(func(v int) bool { return v%2 == 0 }))
	assert.Equal(t, []int{1, 5}, m.Values())
	assert.Equal(t, 0, m.Owned(0))
	assert.Equal(t, 2, m.Owned(1))
}
