package agent_test

import (
	"log"
	"net/http"

	"github.com/contendr/contendr/agent"
)

// Embedding the agent in a service: start it, mount its handler next to the
// service's own routes, stop it on the way out.
func Example() {
	a, err := agent.Start(agent.Config{
		Labels: map[string]string{"service": "checkout", "version": "1.4.2", "role": "canary"},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer a.Stop()

	mux := http.NewServeMux()
	mux.Handle("/debug/", a.Handler()) // pprof, fgprof, contendr windows
	mux.Handle("/metrics", a.Handler())
	log.Fatal(http.ListenAndServe("127.0.0.1:8080", mux))
}

// The agent can also serve itself, on loopback unless a token protects it.
func Example_ownListener() {
	a, err := agent.Start(agent.Config{ListenAddr: "0.0.0.0:6061", Token: "from-a-secret-store"})
	if err != nil {
		log.Fatal(err)
	}
	defer a.Stop()
	log.Printf("contendr agent on %s", a.Addr())
}
