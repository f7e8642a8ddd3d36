package seen

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"mailsneaker/internal/testenv"
)

// seenChildEnv switches the test binary into a child process for the
// multi-process tests: "crash <dir>" or "add <dir> <tag> <n>".
const seenChildEnv = "MAILSNEAKER_SEEN_CHILD"

// TestSeenHelperProcess is not a test: it is the child the multi-process
// tests re-exec, and does nothing unless seenChildEnv is set.
func TestSeenHelperProcess(t *testing.T) {
	args := strings.Fields(os.Getenv(seenChildEnv))
	if len(args) < 2 {
		t.Skip("helper process for the multi-process seen store tests")
	}
	s, err := Open(args[1])
	if err != nil {
		fmt.Println("error", err)
		return
	}
	if r := s.Recovered(); r != "" {
		fmt.Println("error recovered:", r)
		return
	}
	switch args[0] {
	case "crash":
		g := seenCrashGenOf(s)
		fmt.Println("ready", g)
		// Bounded, so an orphan left by a dead parent stops by itself.
		for end := time.Now().Add(time.Minute); time.Now().Before(end); {
			g++
			applySeenCrashGen(s, g)
			if err := s.Save(); err != nil {
				fmt.Println("error", err)
				return
			}
			// os.Stdout is unbuffered: the line leaves before the next save.
			fmt.Println("saved", g)
		}
	case "add":
		tag := args[2]
		n, _ := strconv.Atoi(args[3])
		for i := range n {
			id := fmt.Sprintf("%s-%d", tag, i)
			s.Update("shared", func(a *Account) { a.IDs[id] = "<" + id + "@x>" })
			s.Update("own "+tag, func(a *Account) { a.Baselined = true; a.IDs[id] = "" })
			if err := s.Save(); err != nil {
				fmt.Println("error", err)
				return
			}
		}
		fmt.Println("done")
	}
}

// seenCrashGen is the content of generation g, a function of g alone so the
// parent can tell which generation it finds. Sizes vary, so a torn write
// cannot look like a whole one; gen 0 is the empty store.
func seenCrashGen(g int) map[string]Account {
	m := map[string]Account{}
	if g == 0 {
		return m
	}
	m["meta"] = Account{Baselined: true, IDs: map[string]string{"gen": strconv.Itoa(g)}}
	pop := Account{Baselined: true, IDs: map[string]string{}}
	for k := range 500 + g*7919%2500 {
		pop.IDs[fmt.Sprintf("%016x", uint64(g)<<24|uint64(k))] = ""
	}
	m["pop3 \t☃"] = pop
	if g%7 != 0 { // every 7th generation removes the account
		imap := Account{Baselined: g%2 == 0, IDs: map[string]string{}}
		for k := range 100 + g%50 {
			mid := ""
			if k%3 == 0 {
				mid = fmt.Sprintf("<%d.%d@mail example>", g, k)
			}
			imap.IDs[fmt.Sprintf("INBOX/1700000000/%d", g*10000+k)] = mid
		}
		m["imap\n2"] = imap
	}
	return m
}

func seenCrashGenOf(s *Store) int {
	g, _ := strconv.Atoi(s.Account("meta").IDs["gen"])
	return g
}

func applySeenCrashGen(s *Store, g int) {
	want := seenCrashGen(g)
	for _, name := range s.Accounts() {
		if _, ok := want[name]; !ok {
			s.RemoveAccount(name)
		}
	}
	for name, a := range want {
		s.Update(name, func(x *Account) { *x = *a.clone() })
	}
}

// seenChild is a running helper process and its stdout lines.
type seenChild struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr strings.Builder
}

func startSeenChild(t *testing.T, mode string) *seenChild {
	t.Helper()
	c := &seenChild{cmd: exec.Command(os.Args[0], "-test.run=^TestSeenHelperProcess$", "-test.count=1"), lines: make(chan string, 64)}
	c.cmd.Env = append(os.Environ(), seenChildEnv+"="+mode)
	c.cmd.Stderr = &c.stderr
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	}()
	return c
}

// next returns the child's next line; ok is false at EOF.
func (c *seenChild) next(t *testing.T) (line string, ok bool) {
	t.Helper()
	select {
	case line, ok = <-c.lines:
		if strings.HasPrefix(line, "error") {
			t.Fatalf("child: %s", line)
		}
		return line, ok
	case <-time.After(30 * time.Second):
		t.Fatal("child silent for 30s")
	}
	return "", false
}

// TestSeenCrash kills a process that saves generation after generation at
// random moments and checks that every kill leaves exactly the last
// acknowledged generation or the one being written: never a torn, empty or
// reset store, and no recovery needed.
func TestSeenCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns hundreds of processes")
	}
	dir := t.TempDir()
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	// Each kill restarts a -race test binary (~0.2 s). The count is what the
	// test proves, not the speed: a loaded machine may take many times
	// longer, so the budget is what -timeout leaves. The long count is the
	// soak's.
	wantKills := 100
	if testenv.Soak() {
		wantKills = 200
	}
	budget := 10 * time.Minute
	if dl, ok := t.Deadline(); ok {
		budget = min(budget, time.Until(dl)-30*time.Second)
	}
	deadline := time.Now().Add(budget)
	acked, kills, atAcked, atNext, saves, midWrite := 0, 0, 0, 0, 0, 0
	for kills < wantKills && time.Now().Before(deadline) {
		c := startSeenChild(t, "crash "+dir)
		if line, _ := c.next(t); line != "ready "+strconv.Itoa(acked) {
			c.cmd.Process.Kill()
			c.cmd.Wait()
			t.Fatalf("child said %q, want ready %d (stderr: %s)", line, acked, c.stderr.String())
		}
		kill := time.After(time.Duration(rng.IntN(20_001)) * time.Microsecond)
	run:
		for {
			select {
			case line, ok := <-c.lines:
				if !ok {
					t.Fatalf("child exited before the kill: %s", c.stderr.String())
				}
				var g int
				if _, err := fmt.Sscanf(line, "saved %d", &g); err != nil || g != acked+1 {
					t.Fatalf("child said %q after gen %d", line, acked)
				}
				acked, saves = g, saves+1
			case <-kill:
				break run
			}
		}
		if err := c.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		for line := range c.lines { // what it printed before dying
			var g int
			if _, err := fmt.Sscanf(line, "saved %d", &g); err == nil && g == acked+1 {
				acked, saves = g, saves+1
			}
		}
		c.cmd.Wait()
		kills++
		if tmp, _ := filepath.Glob(filepath.Join(dir, seenTmpGlob)); len(tmp) > 0 {
			midWrite++ // a temp file left behind: killed while writing
		}

		s, err := Open(dir)
		if err != nil {
			t.Fatalf("kill %d: %v", kills, err)
		}
		if s.Recovered() != "" || s.Reset() {
			t.Fatalf("kill %d: Recovered %q, Reset %v; want a clean load", kills, s.Recovered(), s.Reset())
		}
		got := seenContents(s)
		switch {
		case sameSeenContents(got, seenCrashGen(acked)):
			atAcked++
		case sameSeenContents(got, seenCrashGen(acked+1)):
			atNext++ // saved, killed before it said so
			acked++
		default:
			t.Fatalf("kill %d: store holds neither gen %d nor %d (meta %v, %d accounts)",
				kills, acked, acked+1, got["meta"].IDs, len(got))
		}
	}
	t.Logf("%d kills (seed %d, %d of them mid-write): %d generations saved; after a kill the store held the acknowledged generation %d times, the one being acknowledged %d times",
		kills, seed, midWrite, saves, atAcked, atNext)
	if kills < wantKills {
		t.Errorf("only %d kills within the time budget, want %d", kills, wantKills)
	}
}

// TestSeenProcessesKeepEachOthersUpdates runs processes that save disjoint
// additions concurrently: the lock and the merge must keep all of them.
func TestSeenProcessesKeepEachOthersUpdates(t *testing.T) {
	dir := t.TempDir()
	const procs, n = 3, 40
	var children []*seenChild
	for p := range procs {
		children = append(children, startSeenChild(t, fmt.Sprintf("add %s p%d %d", dir, p, n)))
	}
	for _, c := range children {
		if line, _ := c.next(t); line != "done" {
			t.Fatalf("child said %q (stderr: %s)", line, c.stderr.String())
		}
		if err := c.cmd.Wait(); err != nil {
			t.Fatalf("child: %v (stderr: %s)", err, c.stderr.String())
		}
	}
	s := seenOpen(t, dir)
	if got := len(s.Account("shared").IDs); got != procs*n {
		t.Fatalf("shared account holds %d ids, want %d", got, procs*n)
	}
	for p := range procs {
		if a := s.Account(fmt.Sprintf("own p%d", p)); len(a.IDs) != n || !a.Baselined {
			t.Fatalf("own p%d: %d ids, baselined %v", p, len(a.IDs), a.Baselined)
		}
	}
}
