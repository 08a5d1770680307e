package tensor

import (
	"fmt"
	"strings"
)

// ShapeError is the panic value of an operation whose operands have shapes
// it cannot combine. It names the operation and every shape involved.
type ShapeError struct {
	Op     string  // the operation, as the caller knows it ("MatMul", "Add")
	Shapes [][]int // the operands' shapes, in argument order
	Msg    string  // what is wrong with them
}

func (e *ShapeError) Error() string {
	parts := make([]string, len(e.Shapes))
	for i, s := range e.Shapes {
		parts[i] = fmt.Sprint(s)
	}
	return fmt.Sprintf("%s: %s (shapes %s)", e.Op, e.Msg, strings.Join(parts, ", "))
}

// DTypeError is the panic value of an operation given operands of different
// element types. Nabla never converts between float32 and float64 on its
// own: use AsType.
type DTypeError struct {
	Op     string
	DTypes []DType
}

func (e *DTypeError) Error() string {
	parts := make([]string, len(e.DTypes))
	for i, d := range e.DTypes {
		parts[i] = d.String()
	}
	return fmt.Sprintf("%s: mixed dtypes %s; convert with AsType first", e.Op, strings.Join(parts, " and "))
}

// OpError is the panic value of an operation used in a way it cannot
// serve, other than by shapes or dtypes: Backward of a value that depends
// on nothing requiring a gradient, a vector-Jacobian product that returns
// the wrong number of gradients.
type OpError struct {
	Op  string
	Msg string
}

func (e *OpError) Error() string { return e.Op + ": " + e.Msg }

func shapePanic(op, msg string, shapes ...[]int) {
	cp := make([][]int, len(shapes))
	for i, s := range shapes {
		cp[i] = append([]int{}, s...)
	}
	panic(&ShapeError{Op: op, Shapes: cp, Msg: msg})
}

// Try runs f and turns a *ShapeError, *DTypeError or *OpError panic into
// the returned error. Other panics propagate. Use it around graph building driven by
// outside input (a config file, flags), where a bad shape is the user's
// mistake rather than a bug.
func Try(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			switch e := r.(type) {
			case *ShapeError:
				err = e
			case *DTypeError:
				err = e
			case *OpError:
				err = e
			default:
				panic(r)
			}
		}
	}()
	f()
	return nil
}
