package demo

import (
	"fmt"
	"math/rand/v2"
	"time"
)

var (
	senders = []string{
		"Ada Lovelace <ada@example.org>", "Grace Hopper <grace@example.org>",
		"Linus <linus@example.net>", "=?UTF-8?Q?Ren=C3=A9e_Dupr=C3=A9?= <renee@example.fr>",
		"Build bot <ci@example.com>", "Margaret Hamilton <margaret@example.org>",
	}
	subjects = []string{
		"Lunch on Friday?", "Your build is green", "Re: the quarterly numbers",
		"=?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=", "Invoice 2026-117", "Notes from the meeting",
		"Can you review my patch?", "Weekend plans",
	}
)

// message makes the n-th demo mail: a plausible sender and subject.
func message(n int, r *rand.Rand) []byte {
	from := senders[r.IntN(len(senders))]
	subject := subjects[r.IntN(len(subjects))]
	return fmt.Appendf(nil, "From: %s\r\nTo: you@example.com\r\nSubject: %s\r\nDate: %s\r\n"+
		"Message-ID: <demo-%d-%d@mailsneaker.invalid>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"+
		"This is demo mail number %d.\r\n", from, subject, time.Now().Format(time.RFC1123Z), n, time.Now().UnixNano(), n)
}
