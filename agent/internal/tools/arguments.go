package tools

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
)

// checkArguments holds a call's arguments to its tool's input schema, the
// one the model and MCP's tools/list were shown: every required argument present and not empty,
// and every argument the schema types of its type. Its error names the
// argument and shows what the tool takes; the tools' own checks, reached
// only when these pass, could not name it.
//
// It reads the small part of JSON Schema tern's schemas use: an object's
// properties with a type (string, integer, number, boolean, array with
// typed items, object) and required.
func checkArguments(tool string, schema, raw json.RawMessage) error {
	s, err := readSchema(schema)
	if err != nil {
		return fmt.Errorf("%s: its input schema cannot be read (%v); this is a bug in tern", tool, err)
	}
	fail := func(format string, a ...any) error {
		return fmt.Errorf("%s takes %s: %s", tool, s.signature(), fmt.Sprintf(format, a...))
	}
	// Not JSON at all (a model's arguments cut mid-object) is said so: its
	// first byte may well be "{".
	var args map[string]json.RawMessage
	if err := json.Unmarshal(raw, &args); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) || !json.Valid(raw) {
			var v any
			return fail("the arguments are not valid JSON (%v)", json.Unmarshal(raw, &v))
		}
		return fail("the arguments must be a JSON object, not %s", Article(JSONType(raw)))
	}
	var missing []string
	for _, name := range s.required {
		if v, ok := args[name]; !ok || string(v) == "null" {
			missing = append(missing, fmt.Sprintf("%q", name))
		}
	}
	switch len(missing) {
	case 0:
	case 1:
		return fail("the required argument %s is missing", missing[0])
	default:
		return fail("the required arguments %s are missing", strings.Join(missing, ", "))
	}
	for _, p := range s.properties {
		v, ok := args[p.name]
		if !ok || string(v) == "null" {
			continue
		}
		if problem := p.check(v); problem != "" {
			return fail("the argument %q %s", p.name, problem)
		}
		if s.isRequired(p.name) && (string(v) == `""` || string(bytes.Join(bytes.Fields(v), nil)) == "[]") {
			return fail("the required argument %q is empty", p.name)
		}
	}
	return nil
}

type schema struct {
	properties []property // in the schema's order
	required   []string
}

type property struct {
	name, typ, items string // items: the type of an array's elements
}

// readSchema reads an object schema, keeping its properties in order so the
// signature in a message reads as tools/list shows them.
func readSchema(raw json.RawMessage) (schema, error) {
	var doc struct {
		Properties json.RawMessage `json:"properties"`
		Required   []string        `json:"required"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return schema{}, err
	}
	s := schema{required: doc.Required}
	if len(doc.Properties) == 0 {
		return s, nil
	}
	dec := json.NewDecoder(bytes.NewReader(doc.Properties))
	if _, err := dec.Token(); err != nil { // {
		return schema{}, err
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return schema{}, err
		}
		var p struct {
			Type  string `json:"type"`
			Items struct {
				Type string `json:"type"`
			} `json:"items"`
		}
		if err := dec.Decode(&p); err != nil {
			return schema{}, err
		}
		s.properties = append(s.properties, property{name: fmt.Sprint(key), typ: p.Type, items: p.Items.Type})
	}
	return s, nil
}

func (s schema) isRequired(name string) bool {
	for _, r := range s.required {
		if r == name {
			return true
		}
	}
	return false
}

// signature spells the arguments as {"path": string, "start_line"?: integer}:
// a ? marks an optional one.
func (s schema) signature() string {
	var parts []string
	for _, p := range s.properties {
		opt := "?"
		if s.isRequired(p.name) {
			opt = ""
		}
		typ := p.typ
		if typ == "array" && p.items != "" {
			typ = "[" + p.items + ", ...]"
		}
		if typ == "" {
			typ = "any"
		}
		parts = append(parts, fmt.Sprintf("%q%s: %s", p.name, opt, typ))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// check says what is wrong with v for this property, or "".
func (p property) check(v json.RawMessage) string {
	if got := JSONType(v); !fits(got, p.typ, v) {
		return fmt.Sprintf("must be %s, not %s", Article(p.typ), Article(got))
	}
	if p.typ != "array" || p.items == "" {
		return ""
	}
	var elems []json.RawMessage
	json.Unmarshal(v, &elems)
	for i, e := range elems {
		if got := JSONType(e); !fits(got, p.items, e) {
			return fmt.Sprintf("must be an array of %ss; element %d is %s", p.items, i, Article(got))
		}
	}
	return ""
}

// JSONType is the JSON type of a valid value.
func JSONType(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "nothing"
	}
	switch v[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// fits: a value of JSON type got satisfies the schema type want; an integer
// is a number without a fractional part, as JSON Schema has it.
func fits(got, want string, v json.RawMessage) bool {
	switch want {
	case "", got:
		return true
	case "integer":
		var f float64
		return got == "number" && json.Unmarshal(v, &f) == nil && f == math.Trunc(f)
	}
	return false
}

// Article is typ with its indefinite article: "an integer", "a string".
func Article(typ string) string {
	switch typ {
	case "integer", "array", "object":
		return "an " + typ
	case "null", "nothing":
		return typ
	}
	return "a " + typ
}
