package main

// nabla serve: the browser view (issue 11). The page and its assets are
// embedded (serve_static/), so `go install` gives a working, offline
// server. Training runs in Go, in the request's goroutine, and streams to
// the page as server-sent events; the page never sends a file path, and
// every run is built by buildRun from the same flags `nabla train` parses,
// so the command the page shows gives the same bits.

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nabla-go/nabla/kernels"
)

func init() {
	commands["serve"] = command{"serve the browser view: a live playground, a chain-rule stepper, an activation explorer, a CNN view", runServe}
}

//go:embed serve_static
var serveStatic embed.FS

// serveLimits bound the work a server accepts, per client and in total.
type serveLimits struct {
	Trainings int           // trainings running at once (default: the cores but one)
	Queue     int           // clients waiting for a training slot; more are refused (503)
	Sessions  int           // sessions open, training, waiting or finished; more are refused (503)
	TrainTime time.Duration // running (not paused) time of one training
	Idle      time.Duration // a paused or finished training waiting for its client this long is ended
	Frame     time.Duration // at most one live frame per this interval
	MaxEpochs int           // epochs of one training
	MaxSteps  int           // optimiser steps of one training (epochs × batches)
	MaxBody   int64         // request bodies
	Wait      time.Duration // the longest a stepper or explorer request waits for a core
}

func defaultServeLimits() serveLimits {
	return serveLimits{
		Trainings: defaultTrainings(),
		Queue:     64,
		Sessions:  256,
		TrainTime: 5 * time.Minute,
		Idle:      2 * time.Minute,
		Frame:     100 * time.Millisecond,
		MaxEpochs: 2000,
		MaxSteps:  200_000,
		MaxBody:   64 << 10,
		Wait:      5 * time.Second,
	}
}

// defaultTrainings is one training per core, but one core is kept for
// serving pages: a thread the system deschedules mid-step holds its Go
// processor, and with every processor training, pages would wait on it.
func defaultTrainings() int { return max(runtime.GOMAXPROCS(0)-1, 1) }

// server holds the live trainings; its zero value is not usable (newServer).
type server struct {
	lim     serveLimits
	slots   chan struct{} // one token per running training
	compute chan struct{} // one token per stepper or explorer computation
	waiting atomic.Int64  // clients queued for a slot
	open    atomic.Int64  // sessions open
	static  http.Handler
	mux     *http.ServeMux

	mu       sync.Mutex
	sessions map[string]*session
}

func newServer(lim serveLimits) *server {
	sub, err := fs.Sub(serveStatic, "serve_static")
	if err != nil {
		panic(err) // the embedded tree is part of the binary
	}
	s := &server{lim: lim, slots: make(chan struct{}, max(lim.Trainings, 1)),
		compute: make(chan struct{}, max(lim.Trainings, 1)), sessions: map[string]*session{}}
	s.static = http.FileServerFS(sub)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleIndex)
	mux.Handle("GET /static/", http.StripPrefix("/static/", s.static))
	mux.HandleFunc("GET /api/options", s.handleOptions)
	mux.HandleFunc("GET /api/train", s.handleTrain)
	mux.HandleFunc("POST /api/control", s.handleControl)
	mux.HandleFunc("GET /api/predict", s.handlePredict)
	mux.HandleFunc("GET /api/graph", s.bounded(s.handleGraph))
	mux.HandleFunc("GET /api/activations", s.bounded(s.handleActivations))
	mux.HandleFunc("GET /api/cnn", s.handleCNN)
	mux.HandleFunc("GET /api/cnn/images", s.bounded(s.handleCNNImages))
	s.mux = mux
	return s
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, s.lim.MaxBody)
	}
	// Another site's page may not start or steer trainings here: browsers
	// name the page's origin on cross-origin requests.
	if o := r.Header.Get("Origin"); o != "" && strings.HasPrefix(r.URL.Path, "/api/") {
		if u, err := url.Parse(o); err != nil || u.Host != r.Host {
			badRequest(w, http.StatusForbidden, fmt.Sprintf("requests from the page at %s are refused (only this server's own page may call its API)", o))
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

func (s *server) handleIndex(w http.ResponseWriter, r *http.Request) {
	b, err := serveStatic.ReadFile("serve_static/index.html")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(b)
}

// bounded runs h when one of the compute tokens (as many as trainings)
// is free within Wait, and answers 503 otherwise: however many clients ask,
// the stepper and the explorer use at most that many cores.
func (s *server) bounded(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t := time.NewTimer(s.lim.Wait)
		defer t.Stop()
		select {
		case s.compute <- struct{}{}:
			defer func() { <-s.compute }()
			h(w, r)
		case <-t.C:
			badRequest(w, http.StatusServiceUnavailable, "the server is busy; try again later")
		case <-r.Context().Done():
		}
	}
}

// badRequest answers with a status and a one-line reason, as text.
func badRequest(w http.ResponseWriter, code int, reason string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	fmt.Fprintln(w, strings.ReplaceAll(strings.TrimSpace(reason), "\n", " "))
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		panic(err) // only our own types are sent
	}
}

func runServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "serve [--addr 127.0.0.1:8080]", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	trainings := fs.Int("max-trainings", defaultTrainings(), "trainings running at once (the default is the cores but one, kept for serving pages)")
	trainTime := fs.Duration("max-train-time", 5*time.Minute, "running time of one training")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected argument %q (the page reads no files)", fs.Arg(0))
	}
	if *trainings < 1 || *trainTime <= 0 {
		return errors.New("serve: --max-trainings and --max-train-time must be positive")
	}
	lim := defaultServeLimits()
	lim.Trainings, lim.TrainTime = *trainings, *trainTime
	// Each training is small: one thread each, and as many trainings as
	// cores, rather than every training fanning out over all of them.
	kernels.SetThreads(1)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("serve: %v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(stdout, "nabla serve: open http://%s/ (Ctrl-C stops)\n", ln.Addr())
	return serveUntil(ctx, ln, newServer(lim), stdout)
}

// serveUntil serves on ln until ctx ends, then cancels every request
// (ending the trainings and their streams) and shuts down.
func serveUntil(ctx context.Context, ln net.Listener, h http.Handler, stdout io.Writer) error {
	base, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve: %v", err)
	case <-ctx.Done():
	}
	fmt.Fprintln(stdout, "nabla serve: stopping")
	cancel()
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("serve: shutdown: %v", err)
	}
	<-done
	return nil
}
