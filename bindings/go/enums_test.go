package actnet

import (
	"os"
	"regexp"
	"strconv"
	"testing"
)

// header is the C header cgo compiles against: $ACTNET_HEADER (tests/go.cmake sets it to
// the installed one), else the one of this checkout.
var header = func() string {
	if h := os.Getenv("ACTNET_HEADER"); h != "" {
		return h
	}
	return "../../include/actnet.h"
}()

// The enums of include/actnet.h the binding covers, by the prefix of their values' names.
var enumPrefixes = []string{"ACTNET_STATUS_", "ACTNET_MSG_", "ACTNET_EXIT_", "ACTNET_DISCONNECT_REASON_",
	"ACTNET_LOG_LEVEL_", "ACTNET_RESTART_", "ACTNET_STRATEGY_", "ACTNET_MAILBOX_POLICY_", "ACTNET_CLIENT_AUTH_"}

// headerEnums reads every "ACTNET_X = n," value of the header's enums.
func headerEnums(t *testing.T) map[string]int64 {
	t.Helper()
	text, err := os.ReadFile(header)
	ok(t, err)
	values := map[string]int64{}
	for _, m := range regexp.MustCompile(`(?m)^\s+(ACTNET_[A-Z0-9_]+) = (-?\d+),?$`).FindAllSubmatch(text, -1) {
		v, err := strconv.ParseInt(string(m[2]), 10, 64)
		ok(t, err)
		values[string(m[1])] = v
	}
	return values
}

func covered(name string) bool {
	for _, p := range enumPrefixes {
		if len(name) > len(p) && name[:len(p)] == p {
			return true
		}
	}
	return false
}

// Every value of the C enums has a Go counterpart with the same value, and every Go
// counterpart names a value of the header: a new C value without a Go constant (or a Go
// constant for a value renamed or gone) fails here.
func TestEnumsMatchTheHeader(t *testing.T) {
	c := headerEnums(t)
	goValues := cEnumValues()
	kinds := 0
	for name, v := range c {
		if !covered(name) {
			// A new enum: give it Go constants and its prefix to enumPrefixes.
			t.Errorf("%s = %d belongs to no enum this test knows", name, v)
			continue
		}
		if len(name) > len("ACTNET_MSG_") && name[:len("ACTNET_MSG_")] == "ACTNET_MSG_" {
			kinds++
			if typ := messageTypeOf(uint32(v)); typ == "" {
				t.Errorf("%s = %d: the binding delivers no message for this kind", name, v)
			}
			continue
		}
		g, found := goValues[name]
		switch {
		case !found:
			t.Errorf("%s = %d has no Go counterpart (enums.go)", name, v)
		case g != v:
			t.Errorf("%s = %d in the header, %d in Go", name, v, g)
		}
	}
	for name := range goValues {
		if _, found := c[name]; !found {
			t.Errorf("%s (enums.go) is not in %s", name, header)
		}
	}
	// The parse found the enums at all (a header reformatted past this regexp fails).
	if len(c) < len(goValues) || kinds == 0 {
		t.Fatalf("read %d enum values and %d message kinds from %s", len(c), kinds, header)
	}
}

// Each message kind is delivered as its own Go type.
func TestMessageKindTypes(t *testing.T) {
	c := headerEnums(t)
	want := map[string]string{
		"ACTNET_MSG_USER": "*actnet.UserMessage", "ACTNET_MSG_CALL": "*actnet.CallRequest",
		"ACTNET_MSG_CONNECT": "*actnet.Connect", "ACTNET_MSG_DATA": "*actnet.Data",
		"ACTNET_MSG_DISCONNECT": "*actnet.Disconnect", "ACTNET_MSG_WRITABLE": "*actnet.Writable",
		"ACTNET_MSG_DOWN": "*actnet.Down", "ACTNET_MSG_EXIT": "*actnet.Exit",
	}
	for name, typ := range want {
		v, found := c[name]
		if !found {
			t.Errorf("%s is not in the header", name)
			continue
		}
		if got := messageTypeOf(uint32(v)); got != typ {
			t.Errorf("%s = %d is delivered as %q, want %q", name, v, got, typ)
		}
	}
	if got := messageTypeOf(0xFFFF); got != "" {
		t.Errorf("an unknown kind is delivered as %s", got)
	}
}
