// Package seen is the persisted seen set: per account, the mail ids the user
// already had a fair chance to read (POP3) or dismissed (IMAP). It is one
// checksummed file, written atomically, locked against other processes and
// merged with what they wrote.
package seen

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"mailsneaker/internal/safefile"
)

// Names of the store's files inside its directory.
const (
	seenFile     = "seen.db"
	seenPrevFile = "seen.db.prev" // the last good generation before seen.db
	seenLockFile = "seen.lock"
	seenTmpGlob  = "seen.db.tmp-*"
)

// maxSeenSize caps seen.db and seen.db.prev. An id line is about 100 bytes
// (folder/uidvalidity/uid and a Message-ID), so 256 MiB holds some 2.5
// million mails: far beyond any real mailbox set, yet a bound on what a
// symlink to /dev/zero or a runaway file can make us read into memory.
const maxSeenSize = 256 << 20

// seenLockTimeout bounds how long Save, Reload and Open wait for another
// process (the CLI or the tray) to finish writing: writes take milliseconds,
// so a longer wait means that process is stuck, and the caller should hear
// about it rather than hang.
const seenLockTimeout = 10 * time.Second

// Account is what the store holds for one account.
type Account struct {
	// Baselined is set once the account's first check has recorded what was
	// already on the server, so that mail is not reported as new.
	Baselined bool
	// IDs maps an opaque message id (POP3 UIDL, IMAP "folder/uidvalidity/uid")
	// to its Message-ID header, which may be "". For POP3 it is the seen set;
	// for IMAP the set of dismissed mails.
	IDs map[string]string
}

// clone returns a deep copy of a; a nil a gives an empty account.
func (a *Account) clone() *Account {
	if a == nil {
		return &Account{IDs: map[string]string{}}
	}
	return &Account{Baselined: a.Baselined, IDs: maps.Clone(a.IDs)}
}

// equal reports whether a and b hold the same content.
func (a *Account) equal(b *Account) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Baselined == b.Baselined && maps.Equal(a.IDs, b.IDs)
}

// seenState is the whole content of the store. Account values are shared
// between Store.base and Store.cur while unchanged (copy on write), so an
// account whose pointer differs from base's is one this process changed.
type seenState struct {
	reset    bool
	accounts map[string]*Account
}

// Store is the persisted seen set of every account, in seen.db under a state
// directory. It is not safe for concurrent use by goroutines (the manager
// goroutine owns it), but several processes may use the same directory: every
// Save merges this process's changes into what is on disk under a file lock.
type Store struct {
	dir       string
	base      seenState // what was on disk at the last load, reload or save
	baseNonce uint64    // the header nonce of that file; 0 when none was read or written
	cur       seenState // base plus this process's unsaved changes
	dirty     bool      // cur may differ from base
	rewrite   bool      // the file on disk was damaged: write even if cur equals base
	recovered string
	readFile  func(path string) ([]byte, error) // reads seen.db or .prev; tests inject failures
}

// Open loads the store in dir (creating dir if needed). A missing store
// is a clean empty one; a damaged one is recovered from seen.db.prev or, if
// that is damaged too, moved aside and replaced by an empty store with Reset
// set. Either way Recovered says what happened.
//
// A file that cannot be read (permissions, an I/O error, not a regular file,
// over the size cap) is not damage: Open then fails and leaves both files
// alone, because recovering from .prev would bring mail already dismissed
// back as new.
func Open(dir string) (*Store, error) {
	return open(dir, readSeenFile)
}

// readSeenFile reads a store file through the size cap; a FIFO, a device or
// a directory in its place is an error, not a hang.
func readSeenFile(path string) ([]byte, error) {
	return safefile.ReadFile(path, maxSeenSize)
}

// open is Open with the function that reads the store's files.
func open(dir string, readFile func(string) ([]byte, error)) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("seen store: %w", err)
	}
	s := &Store{dir: dir, readFile: readFile}
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	s.removeStaleTemps()
	d, err := s.readDisk(false)
	if err != nil {
		return nil, err
	}
	st := seenState{accounts: map[string]*Account{}}
	switch {
	case d.state != nil:
		st = *d.state
	case d.lost:
		// Forgetting what was seen would report every mail on the
		// servers as new; re-baselining shows nothing until new mail.
		st.reset = true
		d.note += "; started with an empty seen set: every account is re-baselined at its next check, so mail that arrived meanwhile is not reported as new"
	}
	s.base, s.baseNonce, s.recovered = st, d.nonce, d.note
	s.cur = seenState{reset: st.reset, accounts: maps.Clone(st.accounts)}
	if d.lost {
		// Persist the reset now, so another process does not find the
		// store missing and start over without it.
		s.dirty, s.rewrite = true, true
		if err := s.saveLocked(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Path is the store's file, for messages to the user.
func (s *Store) Path() string { return filepath.Join(s.dir, seenFile) }

// Recovered describes the last recovery from a damaged or missing file (by
// Open, Reload or Save) in words for the user; "" when loads were clean.
func (s *Store) Recovered() string { return s.recovered }

// Reset reports that state was lost: every account must re-baseline at its
// next check instead of reporting all of its mail as new.
func (s *Store) Reset() bool { return s.cur.reset }

// ClearReset records that the re-baseline Reset asked for is done.
func (s *Store) ClearReset() {
	if s.cur.reset {
		s.cur.reset = false
		s.dirty = true
	}
}

// Accounts lists the names of the accounts the store holds, sorted.
func (s *Store) Accounts() []string {
	return slices.Sorted(maps.Keys(s.cur.accounts))
}

// Account returns a deep copy of what the store holds for name, which the
// caller may keep and modify; an unknown account gives an empty, non-nil IDs.
func (s *Store) Account(name string) Account {
	return *s.cur.accounts[name].clone()
}

// Update lets fn modify the account name in memory (creating it if absent);
// Save persists it. fn must not keep the pointer it is given.
func (s *Store) Update(name string, fn func(*Account)) {
	a := s.cur.accounts[name]
	if a == nil || a == s.base.accounts[name] {
		a = a.clone() // copy on write: base must keep what is on disk
		s.cur.accounts[name] = a
	}
	fn(a)
	if a.IDs == nil {
		a.IDs = map[string]string{}
	}
	s.dirty = true
}

// RemoveAccount forgets the account name entirely (at the next Save), even
// ids another process added to it meanwhile.
func (s *Store) RemoveAccount(name string) {
	if _, ok := s.cur.accounts[name]; ok {
		delete(s.cur.accounts, name)
		s.dirty = true
	}
}

// Save writes the unsaved changes, merged with what other processes saved
// since this store last read the file: for each account and id, their
// changes are kept and this store's changes are applied on top. It does
// nothing when nothing changed.
func (s *Store) Save() error {
	if !s.pending() {
		return nil
	}
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	return s.saveLocked()
}

// Reload picks up what other processes saved, keeping this store's unsaved
// changes on top (the same merge as Save) without writing.
func (s *Store) Reload() error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	d, err := s.readDisk(true)
	if err != nil {
		return err
	}
	if d.state == nil || d.nonce == s.baseNonce {
		// Nothing new on disk, or nothing usable: keep ours, and if
		// the file is gone make the next Save rewrite it.
		if d.note != "" {
			s.recovered = d.note
		}
		if d.state == nil && s.baseNonce != 0 {
			s.recovered = strings.TrimPrefix(s.recovered+"; ", "; ") + "the seen set in memory is rewritten at the next save"
			s.rewrite = true
		}
		if d.lost && s.baseNonce == 0 {
			// We never read a good file: another process's state is lost.
			s.cur.reset, s.dirty = true, true
		}
		return nil
	}
	if d.note != "" {
		s.recovered = d.note
	}
	s.cur = mergeSeen(*d.state, s.base, s.cur)
	s.base, s.baseNonce = *d.state, d.nonce
	return nil
}

// pending reports whether Save has something to write. Updates that changed
// nothing are undone here, so the manager may Update after every check
// without rewriting the file each time.
func (s *Store) pending() bool {
	if s.rewrite {
		return true
	}
	if !s.dirty {
		return false
	}
	changed := s.cur.reset != s.base.reset || len(s.cur.accounts) != len(s.base.accounts)
	for name, a := range s.cur.accounts {
		b := s.base.accounts[name]
		if a == b {
			continue
		}
		if !a.equal(b) {
			changed = true
			break
		}
	}
	if !changed {
		// Share base's values again so later Updates copy on write.
		s.cur.accounts = maps.Clone(s.base.accounts)
		s.dirty = false
	}
	return changed
}

// saveLocked is Save with the lock held.
func (s *Store) saveLocked() error {
	d, err := s.readDisk(true)
	if err != nil {
		return err
	}
	var result seenState
	switch {
	case d.state == nil:
		// Nothing usable on disk: none yet, deleted behind our back, or
		// damaged beyond .prev (moved aside). What we hold is the best
		// copy; but if we never read a good file, what another process
		// saved is lost, and its accounts must re-baseline.
		result = s.cur
		if d.lost {
			result.reset = result.reset || s.baseNonce == 0
			s.recovered = d.note + "; rewrote it from the seen set in memory"
			if s.baseNonce == 0 {
				s.recovered += ", and every account is re-baselined at its next check"
			}
		}
	case d.nonce == s.baseNonce:
		result = s.cur // nobody wrote since we did: no merge needed
		if d.note != "" {
			s.recovered = d.note
		}
	default:
		result = mergeSeen(*d.state, s.base, s.cur)
		if d.note != "" {
			s.recovered = d.note
		}
	}
	nonce := newSeenNonce()
	if err := s.commit(encodeSeen(result, nonce), d.curGood); err != nil {
		return err
	}
	s.base, s.baseNonce = result, nonce
	s.cur = seenState{reset: result.reset, accounts: maps.Clone(result.accounts)}
	s.dirty, s.rewrite = false, false
	return nil
}

// newSeenNonce returns a random non-zero file nonce: a file whose nonce equals
// the one a store last read or wrote is the very file it knows, so Save and
// Reload skip parsing it.
func newSeenNonce() uint64 {
	for {
		if n := rand.Uint64(); n != 0 {
			return n
		}
	}
}

// mergeSeen returns disk + (mine − base) − (base − mine): every change this
// process made since base (per account, per id, per flag) applied to what is
// on disk now, so another process's changes are kept. A flag follows mine
// when mine changed it and disk otherwise, so a Reset one process cleared is
// not set again by another's unrelated save. Accounts mine did not change
// share disk's values.
func mergeSeen(disk, base, mine seenState) seenState {
	out := seenState{reset: disk.reset, accounts: maps.Clone(disk.accounts)}
	if out.accounts == nil {
		out.accounts = map[string]*Account{}
	}
	if mine.reset != base.reset {
		out.reset = mine.reset
	}
	for name := range base.accounts {
		if _, ok := mine.accounts[name]; !ok {
			delete(out.accounts, name) // removed here: gone whatever was added elsewhere
		}
	}
	for name, m := range mine.accounts {
		b := base.accounts[name]
		if m == b {
			continue
		}
		r := disk.accounts[name].clone()
		var bIDs map[string]string
		bBaselined := false
		if b != nil {
			bIDs, bBaselined = b.IDs, b.Baselined
		}
		for id, v := range m.IDs {
			if bv, ok := bIDs[id]; !ok || bv != v {
				r.IDs[id] = v
			}
		}
		for id := range bIDs {
			if _, ok := m.IDs[id]; !ok {
				delete(r.IDs, id)
			}
		}
		if m.Baselined != bBaselined {
			r.Baselined = m.Baselined
		}
		out.accounts[name] = r
	}
	return out
}

// seenOnDisk is what readDisk found.
type seenOnDisk struct {
	state   *seenState // nil: no usable file (none yet, or all damaged)
	nonce   uint64     // state's file nonce
	curGood bool       // seen.db is intact, so it may become seen.db.prev
	lost    bool       // files existed but none was usable; they were moved aside
	note    string     // what went wrong, for Recovered
}

// readDisk reads the current file with the lock held, falling back to the
// previous generation, and repairs the directory so that seen.db is intact
// (or absent when nothing usable remains) afterwards. A file whose nonce is s.baseNonce is not parsed:
// state then points at s.base. With preferBase (a store that has read or
// written the file before), a damaged seen.db is replaced by s.base rather
// than seen.db.prev: base is at least as new as the file it was read from,
// while .prev is most likely the generation before it. Only a file that was
// read and failed its checksum or parse is damage; one that could not be read
// is an error, and nothing is moved or rewritten.
func (s *Store) readDisk(preferBase bool) (seenOnDisk, error) {
	cur := filepath.Join(s.dir, seenFile)
	prev := filepath.Join(s.dir, seenPrevFile)
	data, curErr := s.readFile(cur)
	curMissing := errors.Is(curErr, fs.ErrNotExist)
	if curErr != nil && !curMissing {
		return seenOnDisk{}, seenReadError(curErr)
	}
	var st seenState
	var nonce uint64
	if curErr == nil {
		nonce, curErr = s.loadBytes(data, &st)
		if curErr == nil {
			return seenOnDisk{state: &st, nonce: nonce, curGood: true}, nil
		}
	}
	var newer *seenNewerFormatError
	if errors.As(curErr, &newer) {
		return seenOnDisk{}, fmt.Errorf("%s: %w", cur, curErr)
	}
	if !curMissing && preferBase && s.baseNonce != 0 {
		aside, err := moveSeenAside(cur, "")
		if err != nil {
			return seenOnDisk{}, err
		}
		// Rewrite base under its own nonce, so seen.db is intact again
		// and a later read does not fall back to the older .prev.
		if err := s.commit(encodeSeen(s.base, s.baseNonce), false); err != nil {
			return seenOnDisk{}, err
		}
		note := fmt.Sprintf("%s was damaged (%v) and moved to %s; rewrote it from the seen set in memory", cur, curErr, filepath.Base(aside))
		return seenOnDisk{state: &s.base, nonce: s.baseNonce, curGood: true, note: note}, nil
	}

	pdata, prevErr := s.readFile(prev)
	prevMissing := errors.Is(prevErr, fs.ErrNotExist)
	if prevErr != nil && !prevMissing {
		return seenOnDisk{}, seenReadError(prevErr)
	}
	if prevErr == nil {
		nonce, prevErr = s.loadBytes(pdata, &st)
	}
	if curMissing && prevMissing {
		return seenOnDisk{}, nil // first run
	}
	var d seenOnDisk
	if prevErr == nil {
		if curMissing {
			d.note = fmt.Sprintf("%s was missing; loaded the previous copy %s", cur, seenPrevFile)
		} else {
			aside, err := moveSeenAside(cur, "")
			if err != nil {
				return seenOnDisk{}, err
			}
			d.note = fmt.Sprintf("%s was damaged (%v) and moved to %s; loaded the previous copy %s: mails marked read just before may show as new again",
				cur, curErr, filepath.Base(aside), seenPrevFile)
		}
		// Put the good copy back in place, so the next reader (and
		// the next save's .prev) finds an intact seen.db.
		if err := s.commit(pdata, false); err != nil {
			return seenOnDisk{}, err
		}
		d.state, d.nonce, d.curGood = &st, nonce, true
		return d, nil
	}
	if errors.As(prevErr, &newer) {
		return seenOnDisk{}, fmt.Errorf("%s: %w", prev, prevErr)
	}
	var moved []string
	for _, f := range []struct {
		path, suffix string
		err          error
	}{{cur, "", curErr}, {prev, ".prev", prevErr}} {
		if errors.Is(f.err, fs.ErrNotExist) {
			continue
		}
		aside, err := moveSeenAside(f.path, f.suffix)
		if err != nil {
			return seenOnDisk{}, err
		}
		moved = append(moved, fmt.Sprintf("%s (%v) to %s", filepath.Base(f.path), f.err, filepath.Base(aside)))
	}
	d.lost = true
	d.note = fmt.Sprintf("the seen set in %s was damaged and its previous copy unusable; moved %s", s.dir, strings.Join(moved, " and "))
	return d, nil
}

// seenReadError is the error for a store file that could not be read, as
// opposed to one that was read and found damaged: nothing was moved or
// rewritten, and the user has to fix the file before the next try.
func seenReadError(err error) error {
	return fmt.Errorf("seen store: %w (nothing was moved or rewritten: fix or remove that file and retry)", err)
}

// loadBytes parses data into st, or, when data is the file s.base came from,
// points st at s.base without parsing.
func (s *Store) loadBytes(data []byte, st *seenState) (uint64, error) {
	nonce, _, _, err := verifySeen(data)
	if err != nil {
		return 0, err
	}
	if nonce == s.baseNonce && s.baseNonce != 0 {
		*st = s.base
		return nonce, nil
	}
	parsed, nonce, err := parseSeen(data)
	if err != nil {
		return 0, err
	}
	*st = parsed
	return nonce, nil
}

// moveSeenAside renames a damaged file to seen.db.corrupt-<UTC time><suffix>
// (never over an existing file) and returns the new path.
func moveSeenAside(path, suffix string) (string, error) {
	stamp := time.Now().UTC().Format("20060102T150405.000Z")
	base := filepath.Join(filepath.Dir(path), seenFile+".corrupt-"+stamp)
	for i := 0; ; i++ {
		name := base + suffix
		if i > 0 {
			name = fmt.Sprintf("%s-%d%s", base, i, suffix)
		}
		if _, err := os.Lstat(name); errors.Is(err, fs.ErrNotExist) {
			if err := os.Rename(path, name); err != nil {
				return "", fmt.Errorf("seen store: moving damaged file aside: %w", err)
			}
			return name, nil
		}
	}
}

// commit atomically replaces seen.db with data: a kill at any instant leaves
// the old or the new file. With keepPrev the old seen.db (known intact)
// becomes seen.db.prev first.
func (s *Store) commit(data []byte, keepPrev bool) error {
	if len(data) > maxSeenSize {
		// Writing it would lock the next Open out.
		return fmt.Errorf("seen store: the seen set has grown to %d bytes, over the %d byte limit: remove accounts you no longer use", len(data), maxSeenSize)
	}
	cur := filepath.Join(s.dir, seenFile)
	o := &safefile.WriteOptions{TempPattern: seenTmpGlob}
	if keepPrev {
		o.BeforeRename = func() error { return keepSeenPrevious(cur, filepath.Join(s.dir, seenPrevFile)) }
	}
	if err := safefile.WriteFile(cur, data, o); err != nil {
		return fmt.Errorf("seen store: %w", err)
	}
	return nil
}

// keepSeenPrevious makes prev a copy of cur. A hard link keeps cur in place, so
// seen.db never goes missing; where links are unsupported it falls back to
// a rename, and a kill before the new seen.db lands is then recovered from
// seen.db.prev.
func keepSeenPrevious(cur, prev string) error {
	tmp := prev + ".tmp"
	os.Remove(tmp)
	if err := os.Link(cur, tmp); err == nil {
		return os.Rename(tmp, prev)
	}
	return os.Rename(cur, prev)
}

// removeStaleTemps deletes temp files left by a process killed mid-save;
// with the lock held no other process is writing one.
func (s *Store) removeStaleTemps() {
	stale, _ := filepath.Glob(filepath.Join(s.dir, seenTmpGlob))
	stale = append(stale, filepath.Join(s.dir, seenPrevFile+".tmp"))
	for _, p := range stale {
		os.Remove(p)
	}
}

// lock takes the exclusive inter-process lock on seen.lock, waiting up to
// seenLockTimeout, and returns the function that releases it. It polls
// rather than blocking, so a stuck process gives an error instead of hanging
// the manager.
func (s *Store) lock() (func(), error) {
	path := filepath.Join(s.dir, seenLockFile)
	l, err := safefile.LockWait(path, seenLockTimeout)
	if errors.Is(err, safefile.ErrLocked) {
		return nil, fmt.Errorf("seen store: %s is held by another MailSneaker process for over %v: stop that process (a hung \"mailsneaker mark-read\"?) and retry", path, seenLockTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("seen store: %w", err)
	}
	return func() { l.Unlock() }, nil
}
