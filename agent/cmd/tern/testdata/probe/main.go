// probe tries one thing a hostile command would try inside the sandbox and
// prints "ok" when it worked or "denied: <reason>" when it did not. The
// sandbox tests build it; it is not part of tern.
package main

import (
	"fmt"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Println("usage: probe tiocsti|udp ADDR|unix PATH|unixgram PATH")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "tiocsti":
		// Push "id\n" into the terminal on stdin, as if typed.
		for _, c := range []byte("id\n") {
			if err = unix.IoctlSetPointerInt(0, unix.TIOCSTI, int(c)); err != nil {
				break
			}
		}
	case "udp":
		var c net.Conn
		if c, err = net.DialTimeout("udp", os.Args[2], time.Second); err == nil {
			_, err = c.Write([]byte("escaped"))
			c.Close()
		}
	case "unix":
		var c net.Conn
		if c, err = net.DialTimeout("unix", os.Args[2], time.Second); err == nil {
			c.Close() // connected: the listener has seen it
		}
	case "unixgram":
		err = sendUnixgram(os.Args[2], unix.SOCK_DGRAM)
	case "unixraw":
		err = sendUnixgram(os.Args[2], unix.SOCK_RAW) // which the kernel makes a datagram socket

	default:
		err = fmt.Errorf("unknown probe %q", os.Args[1])
	}
	if err != nil {
		fmt.Println("denied:", err)
		return
	}
	fmt.Println("ok")
}

// sendUnixgram sends a datagram to a path socket from a socket of type
// typ, which names its destination per message rather than by connect().
func sendUnixgram(path string, typ int) error {
	fd, err := unix.Socket(unix.AF_UNIX, typ, 0)
	if err != nil {
		return err
	}
	return unix.Sendto(fd, []byte("escaped"), 0, &unix.SockaddrUnix{Name: path})
}
