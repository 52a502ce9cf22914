package server

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"time"

	"github.com/touchbase/touchbase"
)

// keyCacheTTL is how long an authenticated key (and its workspace) is
// trusted without asking the store again. Revoking a key through this
// server's API drops it at once; a revocation by another process (the CLI,
// another node) takes effect within the TTL.
const keyCacheTTL = 10 * time.Second

// keyCache remembers recent authentications so that ingestion does not pay a
// database round trip per request. Entries are keyed by the SHA-256 of the
// secret: the secrets themselves are not kept.
type keyCache struct {
	ttl time.Duration
	now func() time.Time

	mu         sync.Mutex
	keys       map[[32]byte]keyEntry
	workspaces map[int64]workspaceEntry
}

type keyEntry struct {
	key     *touchbase.Key
	expires time.Time
}

type workspaceEntry struct {
	ws      *touchbase.Workspace
	expires time.Time
}

func newKeyCache(ttl time.Duration, now func() time.Time) *keyCache {
	return &keyCache{ttl: ttl, now: now, keys: map[[32]byte]keyEntry{}, workspaces: map[int64]workspaceEntry{}}
}

// maxCachedKeys bounds the cache; wrong keys are never cached, so only live
// keys fill it and the bound is generous.
const maxCachedKeys = 10000

// authenticate returns the live key whose secret this is, from the cache or
// the store. Unknown and revoked secrets are EUNAUTHORIZED.
func (c *keyCache) authenticate(ctx context.Context, keys touchbase.KeyService, secret string) (*touchbase.Key, error) {
	if secret == "" {
		return nil, touchbase.Errorf(touchbase.EUNAUTHORIZED, "missing credentials")
	}
	h := sha256.Sum256([]byte(secret))
	now := c.now()
	c.mu.Lock()
	e, ok := c.keys[h]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.key, nil
	}
	k, err := keys.AuthenticateKey(ctx, secret)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.keys) >= maxCachedKeys {
		for kh, ke := range c.keys {
			if !now.Before(ke.expires) {
				delete(c.keys, kh)
			}
		}
		if len(c.keys) >= maxCachedKeys {
			c.keys = map[[32]byte]keyEntry{}
		}
	}
	c.keys[h] = keyEntry{key: k, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return k, nil
}

// workspace returns the workspace with this id, from the cache or the store.
func (c *keyCache) workspace(ctx context.Context, ws touchbase.WorkspaceService, id int64) (*touchbase.Workspace, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.workspaces[id]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.ws, nil
	}
	w, err := ws.FindWorkspace(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("find workspace %d: %w", id, err)
	}
	c.mu.Lock()
	c.workspaces[id] = workspaceEntry{ws: w, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return w, nil
}

// dropKey forgets the key with this id (it was revoked).
func (c *keyCache) dropKey(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for h, e := range c.keys {
		if e.key.ID == id {
			delete(c.keys, h)
		}
	}
}

// dropWorkspace forgets the workspace with this id (its settings changed).
func (c *keyCache) dropWorkspace(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.workspaces, id)
}
