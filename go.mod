module github.com/nabla-go/nabla

go 1.26
