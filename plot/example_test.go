package plot_test

import (
	"fmt"

	"github.com/nabla-go/nabla/plot"
)

// The numbers behind the activation figure: the derivative comes from
// reverse-mode autodiff, so the kink conventions show (ReLU'(0) = 0).
func ExampleActivations() {
	curves, err := plot.Activations([]string{"sigmoid", "relu"}, -5, 5, 401)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range curves {
		s := c.Stats
		fmt.Printf("%s: max f' %.2f at x = %.3g, f'(0) = %g, saturates: %s\n", c.Name, s.MaxGrad, s.ArgMaxGrad, s.GradAt0, s.Saturates())
	}
	// Output:
	// sigmoid: max f' 0.25 at x = 0, f'(0) = 0.25, saturates: both
	// relu: max f' 1.00 at x = 0.025, f'(0) = 0, saturates: left
}
