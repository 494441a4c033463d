// Comparing meta.db files with Term and Index set aside: raft's indexes also count configuration and
// no-op entries, so those two top-level fields of Data (1: Term, 2: Index) legitimately differ.
package main

import "fmt"

// withoutTermIndex returns the top-level protobuf fields of b other than 1 and 2, in order.
func withoutTermIndex(b []byte) ([]byte, error) {
	var out []byte
	for at := 0; at < len(b); {
		start := at
		tag, n := uvarint(b[at:])
		if n <= 0 {
			return nil, fmt.Errorf("bad tag at offset %d", at)
		}
		at += n
		switch tag & 7 {
		case 0:
			_, n = uvarint(b[at:])
			if n <= 0 {
				return nil, fmt.Errorf("bad varint at offset %d", at)
			}
			at += n
		case 1:
			at += 8
		case 2:
			l, n := uvarint(b[at:])
			if n <= 0 || l > uint64(len(b)-at-n) {
				return nil, fmt.Errorf("bad length at offset %d", at)
			}
			at += n + int(l)
		case 5:
			at += 4
		default:
			return nil, fmt.Errorf("wire type %d at offset %d", tag&7, start)
		}
		if at > len(b) {
			return nil, fmt.Errorf("field at offset %d runs past the end", start)
		}
		if field := tag >> 3; field != 1 && field != 2 {
			out = append(out, b[start:at]...)
		}
	}
	return out, nil
}

func uvarint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * uint(i))
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, -1
}
