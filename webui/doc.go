// Package webui is contendr's dashboard: an http.Handler that shows, for one
// or more targets, the lock and GC series over the kept windows, the latest
// findings, each window's lock sites, map growth, GC pressure and
// recommendations, flame graphs (package flame) with a diff view, and a deep
// dive into pprof's own web UI served in-process.
//
// A Target's windows come from a Source: an in-process agent's kept windows
// (WindowsFunc(a.Windows)) or a Remote that polls a URL with package source.
// The page reads JSON (analyze's report contract, contendr.report/v1, plus
// the window series) and refreshes itself as windows arrive. Every asset is
// embedded; nothing is fetched from elsewhere, so it works offline.
//
// The handler serves paths relative to its own root, so it can be mounted
// anywhere with http.StripPrefix:
//
//	mux.Handle("/debug/contendr/ui/", http.StripPrefix("/debug/contendr/ui", webui.New(opts)))
package webui
