// gohttp — a Go network client for t_go.sh, built twice: statically
// (CGO_ENABLED=0: Go's own resolver and raw system calls, which only the
// supervisor sees) and with cgo (a dynamic binary whose connects are still
// Go's raw system calls).
//
//	gohttp get URL          one HTTP GET; the body on stdout, and
//	                        "peer ADDR" (the connection's remote address,
//	                        from getpeername) on stderr
//	gohttp parallel URL N   N GETs at once, each on its own connection;
//	                        prints "ok N" when every one got the body of the
//	                        first
//	gohttp mx NAME          look up NAME's MX and TXT records; prints
//	                        "refused" when both lookups fail (exit 0), the
//	                        records otherwise (exit 1)
//	gohttp resolve NAME     the addresses of NAME, one a line
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

func client(peer *string, mu *sync.Mutex) *http.Client {
	dialer := &net.Dialer{Timeout: 20 * time.Second}
	transport := &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := dialer.DialContext(ctx, network, addr)
			if err == nil && peer != nil {
				mu.Lock()
				*peer = conn.RemoteAddr().String()
				mu.Unlock()
			}
			return conn, err
		},
	}
	return &http.Client{Transport: transport, Timeout: 30 * time.Second}
}

func fetch(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %s", resp.Status)
	}
	return string(body), nil
}

func get(url string) int {
	var peer string
	var mu sync.Mutex
	body, err := fetch(client(&peer, &mu), url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "get:", err)
		return 1
	}
	fmt.Print(body)
	fmt.Fprintln(os.Stderr, "peer", peer)
	return 0
}

func parallel(url string, n int) int {
	c := client(nil, nil)
	bodies := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			bodies[i], errs[i] = fetch(c, url)
		}(i)
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		if errs[i] != nil || bodies[i] != bodies[0] {
			fmt.Fprintln(os.Stderr, "request", i, "failed:", errs[i])
			return 1
		}
	}
	fmt.Println("ok", n)
	return 0
}

func mx(name string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	mxs, errMX := net.DefaultResolver.LookupMX(ctx, name)
	txts, errTXT := net.DefaultResolver.LookupTXT(ctx, name)
	if errMX != nil && errTXT != nil {
		fmt.Fprintln(os.Stderr, "mx:", errMX)
		fmt.Fprintln(os.Stderr, "txt:", errTXT)
		fmt.Println("refused")
		return 0
	}
	for _, m := range mxs {
		fmt.Println("mx", m.Host, m.Pref)
	}
	for _, t := range txts {
		fmt.Println("txt", t)
	}
	return 1
}

func resolve(name string) int {
	addrs, err := net.LookupHost(name)
	if err != nil {
		fmt.Fprintln(os.Stderr, "resolve:", err)
		return 1
	}
	for _, a := range addrs {
		fmt.Println(a)
	}
	return 0
}

func main() {
	args := os.Args[1:]
	switch {
	case len(args) == 2 && args[0] == "get":
		os.Exit(get(args[1]))
	case len(args) == 3 && args[0] == "parallel":
		n, err := strconv.Atoi(args[2])
		if err == nil && n > 0 {
			os.Exit(parallel(args[1], n))
		}
	case len(args) == 2 && args[0] == "mx":
		os.Exit(mx(args[1]))
	case len(args) == 2 && args[0] == "resolve":
		os.Exit(resolve(args[1]))
	}
	fmt.Fprintln(os.Stderr, "usage: gohttp get URL | parallel URL N | mx NAME | resolve NAME")
	os.Exit(2)
}
