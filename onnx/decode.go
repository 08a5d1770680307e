package onnx

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/nabla-go/nabla/onnx/onnxpb"
)

// Limits on what Decode accepts, so that a hostile file is refused before
// it is decoded: protobuf messages nested deeper than maxNesting (a model
// nests six deep; subgraphs in attributes add more), or a decoded form
// estimated larger than decodeBudget(len(file)).
const maxNesting = 32

// decodeBudget is the memory the decoded messages of a file of n bytes may
// take: a fixed allowance plus a small multiple of the file, which real
// models (mostly raw tensor bytes) stay far below and a file of many tiny
// messages, each a Go struct of a hundred bytes or more, exceeds.
func decodeBudget(n int) int64 { return 64<<20 + 8*int64(n) }

// Rough sizes of decoded values, for the estimate.
const (
	messageCost = 160 // a generated struct with its bookkeeping
	fieldCost   = 16  // a slice or string header
	scalarCost  = 8
)

// Decode parses an ONNX file. It walks the wire format first, without
// allocating, and refuses a file that is not protobuf, nests messages
// deeper than 32 levels, or would decode to more than 64 MiB plus eight
// times its own size; so a malformed or hostile file gives an error, never
// a panic or an allocation out of proportion to its length.
func Decode(b []byte) (*onnxpb.ModelProto, error) {
	m := &onnxpb.ModelProto{}
	var cost int64
	if err := scan(b, m.ProtoReflect().Descriptor(), 0, &cost, decodeBudget(len(b))); err != nil {
		return nil, fmt.Errorf("onnx: not a valid ONNX file: %v", err)
	}
	if err := (proto.UnmarshalOptions{RecursionLimit: maxNesting + 1}).Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("onnx: not a valid ONNX file: %v", err)
	}
	return m, nil
}

var errBudget = errors.New("it would take too much memory to decode (too many small messages for its size)")

// scan checks the wire format of b as message md and adds the estimated
// decoded size to *cost.
func scan(b []byte, md protoreflect.MessageDescriptor, depth int, cost *int64, budget int64) error {
	if depth > maxNesting {
		return fmt.Errorf("messages nested deeper than %d levels", maxNesting)
	}
	*cost += messageCost
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		fd := md.Fields().ByNumber(num)
		switch typ {
		case protowire.VarintType:
			_, n = protowire.ConsumeVarint(b)
			*cost += scalarCost
		case protowire.Fixed32Type:
			_, n = protowire.ConsumeFixed32(b)
			*cost += scalarCost
		case protowire.Fixed64Type:
			_, n = protowire.ConsumeFixed64(b)
			*cost += scalarCost
		case protowire.BytesType:
			var v []byte
			v, n = protowire.ConsumeBytes(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			*cost += fieldCost
			switch {
			case fd != nil && (fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind):
				if err := scan(v, fd.Message(), depth+1, cost, budget); err != nil {
					return err
				}
			case fd != nil && fd.IsList() && fd.Kind() != protoreflect.StringKind && fd.Kind() != protoreflect.BytesKind:
				// A packed list: each element becomes 8 bytes at most,
				// and takes at least 1 (varint) or 4 (fixed) on the wire.
				per := int64(1)
				switch fd.Kind() {
				case protoreflect.FloatKind, protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind:
					per = 4
				case protoreflect.DoubleKind, protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind:
					per = 8
				}
				*cost += int64(len(v)) / per * scalarCost
			default:
				*cost += int64(len(v))
			}
		case protowire.StartGroupType:
			return fmt.Errorf("field %d: groups are not used by ONNX", num)
		default:
			return fmt.Errorf("field %d: unknown wire type %d", num, typ)
		}
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if *cost > budget {
			return errBudget
		}
	}
	return nil
}
