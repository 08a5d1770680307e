package train_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/nabla-go/nabla/ag"
	"github.com/nabla-go/nabla/data"
	"github.com/nabla-go/nabla/loss"
	"github.com/nabla-go/nabla/nn"
	"github.com/nabla-go/nabla/optim"
	"github.com/nabla-go/nabla/tensor"
	"github.com/nabla-go/nabla/train"
)

// Train the notes' two-layer network f = W2·max(0, W1·x) on the spiral
// set: data, model, loss, optimiser and schedule, then the loop. Every
// random draw comes from a seeded generator the trainer owns, so a run
// folder (Config.Dir) could be resumed to the same bits.
func Example() {
	spiral, err := data.Synthetic("spiral", tensor.NewRand(1))
	if err != nil {
		panic(err)
	}
	modelRNG := rand.NewPCG(2, 2)
	model, err := nn.NewMLP(nn.MLPConfig{In: 2, Hidden: []int{100}, Out: 3, Activation: "relu"}, rand.New(modelRNG))
	if err != nil {
		panic(err)
	}
	var params []*ag.Node
	for _, p := range model.Params() {
		params = append(params, p.Node)
	}
	const epochs, batch = 60, 32
	steps := epochs * ((spiral.Len() + batch - 1) / batch)
	t := &train.Trainer{
		Model:    model,
		Loss:     func(logits *ag.Node, y []int) *ag.Node { return loss.CrossEntropy(logits, y, 0) },
		Opt:      optim.NewAdam(params, optim.AdamConfig{LR: 0.01}),
		Schedule: optim.OneCycle{MaxLR: 0.01, TotalSteps: steps},
		Train:    spiral,
		RNG:      map[string]*rand.PCG{"shuffle": rand.NewPCG(3, 3), "model": modelRNG},
		Config:   train.Config{Epochs: epochs, Batch: batch},
	}
	res, err := t.Run(context.Background())
	if err != nil {
		panic(err)
	}
	ev := train.Evaluate(model, t.Loss, spiral, 300)
	fmt.Println("epochs:", len(res.History))
	fmt.Println("training accuracy above 97%:", ev.Accuracy > 0.97)
	// Output:
	// epochs: 60
	// training accuracy above 97%: true
}
