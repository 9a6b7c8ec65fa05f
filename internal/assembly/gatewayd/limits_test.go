package gatewayd

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// slowClients is how many connections the slow-client test holds open:
// half send half a request header, half a body that never ends.
const slowClients = 300

// Hundreds of connections that never finish their request hold nothing
// for long: a normal request is answered while they are open, and each of
// them is closed once its timeout passes. Over-large headers are refused.
func TestSlowClientsDoNotHoldTheListener(t *testing.T) {
	gw, err := Start(t.Context(), Options{Config: mustParse(t, soloYAML)})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close()
	ls, err := ListenWith(ListenOptions{ClientAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Limits: Limits{
		ReadHeaderTimeout: 500 * time.Millisecond, ReadTimeout: time.Second, WriteTimeout: 5 * time.Second,
		IdleTimeout: time.Second, MaxHeaderBytes: 8 << 10,
	}})
	if err != nil {
		t.Fatal(err)
	}
	gw.ServeInBackground(ls)
	addr := ls.Client.Addr().String()

	slow := make([]net.Conn, 0, slowClients)
	defer func() {
		for _, c := range slow {
			c.Close()
		}
	}()
	for i := range slowClients {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("slow client %d: %v", i, err)
		}
		slow = append(slow, c)
		req := "GET /healthz HTTP/1.1\r\nHost: gw\r\nX-Half: " // the header never ends
		if i%2 == 1 {
			req = "POST /v1/workflows HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"workflowType\":"
		}
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
	}

	// A normal request while they hang: answered (the deadline is only a
	// bound on a hang, not a measurement).
	normal := &http.Client{Timeout: 10 * time.Second}
	resp, err := normal.Get(ls.ClientURL() + "/healthz")
	if err != nil {
		t.Fatalf("a normal request beside %d slow ones: %v", slowClients, err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/healthz: %d", resp.StatusCode)
	}

	// Every slow connection is closed by the server (read ends in EOF or a
	// reset, perhaps after an error answer), long before our own deadline.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var open []int
	for i, c := range slow {
		wg.Go(func() {
			_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
			_, err := bufio.NewReader(c).ReadString(0) // until the server closes
			if errors.Is(err, os.ErrDeadlineExceeded) {
				mu.Lock()
				open = append(open, i)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(open) > 0 {
		t.Fatalf("%d slow connections were still open after 30s, e.g. #%d", len(open), open[0])
	}

	big, _ := http.NewRequest("GET", ls.ClientURL()+"/healthz", nil)
	big.Header.Set("X-Padding", strings.Repeat("a", 16<<10))
	resp, err = normal.Do(big)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("headers over the cap: %d, want 431", resp.StatusCode)
	}
}

// The defaults apply to zero values, and the servers get every limit.
func TestLimitsDefaults(t *testing.T) {
	s := Limits{ReadTimeout: time.Minute}.withDefaults().server(http.NotFoundHandler())
	got := fmt.Sprint(s.ReadHeaderTimeout, s.ReadTimeout, s.WriteTimeout, s.IdleTimeout, s.MaxHeaderBytes)
	want := fmt.Sprint(DefaultReadHeaderTimeout, time.Minute, DefaultWriteTimeout, DefaultIdleTimeout, DefaultMaxHeaderBytes)
	if got != want {
		t.Fatalf("server limits %s, want %s", got, want)
	}
}
