// gobench — case 7 of `make bench`: a Go client's connection set-up through
// a SOCKS5 proxy, either dialing SOCKS5 itself (golang.org/x/net/proxy, with
// -x) or plain, under socksify's supervisor (built with CGO_ENABLED=0, so
// only the supervisor can carry it).
//
//	gobench conn [-x HOST:PORT] -n N IP PORT  N sequential connect, one-byte
//	                                          echo, close; prints conns=N
//	                                          wall_ms=W
//	gobench par [-x HOST:PORT] -c N IP PORT   N connects at once, each with
//	                                          a one-byte echo; prints
//	                                          conns=N wall_ms=W (all done)
//
// On failure it prints error=WHAT and exits 1.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/net/proxy"
)

type dialFunc func(network, addr string) (net.Conn, error)

func dialer(socks string) dialFunc {
	if socks == "" {
		return net.Dial
	}
	d, err := proxy.SOCKS5("tcp", socks, nil, proxy.Direct)
	if err != nil {
		fail(err)
	}
	return d.Dial
}

func fail(err error) {
	fmt.Printf("error=%s\n", err)
	os.Exit(1)
}

// once: connect, send one byte, read it back, close.
func once(dial dialFunc, addr string) error {
	conn, err := dial("tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err = conn.Write([]byte{'x'}); err != nil {
		return err
	}
	var b [1]byte
	_, err = conn.Read(b[:])
	return err
}

func ms(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}

func main() {
	if len(os.Args) < 2 {
		fail(fmt.Errorf("usage: gobench conn|par [-x HOST:PORT] -n|-c N IP PORT"))
	}
	mode := os.Args[1]
	fs := flag.NewFlagSet(mode, flag.ExitOnError)
	socks := fs.String("x", "", "SOCKS5 proxy HOST:PORT (dial SOCKS5 ourselves)")
	n := fs.Int("n", 1000, "sequential connections (conn)")
	c := fs.Int("c", 20, "concurrent connections (par)")
	fs.Parse(os.Args[2:])
	if fs.NArg() != 2 {
		fail(fmt.Errorf("need IP PORT"))
	}
	addr := net.JoinHostPort(fs.Arg(0), fs.Arg(1))
	dial := dialer(*socks)
	start := time.Now()
	switch mode {
	case "conn":
		for i := 0; i < *n; i++ {
			if err := once(dial, addr); err != nil {
				fail(err)
			}
		}
		fmt.Printf("conns=%d wall_ms=%.1f\n", *n, ms(time.Since(start)))
	case "par":
		errs := make(chan error, *c)
		var wg sync.WaitGroup
		for i := 0; i < *c; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- once(dial, addr)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				fail(err)
			}
		}
		fmt.Printf("conns=%d wall_ms=%.1f\n", *c, ms(time.Since(start)))
	default:
		fail(fmt.Errorf("unknown mode %s", mode))
	}
}
