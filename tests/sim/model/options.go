package model

import "time"

// Options tune the model. Zero fields take the defaults noted on each.
type Options struct {
	// Clock defaults to RealClock.
	Clock Clock
	// Seed makes cluster IDs, member IDs and capture IDs reproducible; 0 seeds from the clock.
	Seed uint64

	// TickInterval is the step of all gradual processes (default 1s).
	TickInterval time.Duration
	// DisconnectAfter is how long a store may miss heartbeats before PD shows it as
	// Disconnected (default 20s, as in PD).
	DisconnectAfter time.Duration
	// MaxStoreDownTime is the initial schedule.max-store-down-time of new clusters: after it a
	// store without heartbeats is Down and its peers are replaced (default 30m, as in PD).
	MaxStoreDownTime time.Duration
	// MaxReplicas is the initial replication.max-replicas of new clusters (default 3).
	MaxReplicas int

	// Regions is how many regions a cluster gets when its first TiKV store bootstraps it
	// (default 64).
	Regions int
	// EvictLeaderPerTick is how many leaders an evict-leader scheduler moves off one store per
	// tick (default 8).
	EvictLeaderPerTick int
	// RegionMovesPerTick is how many peers PD moves off one Offline or Down store per tick
	// (default 8), and how many missing replicas it adds per tick.
	RegionMovesPerTick int
	// BalancePerTick is how many regions and how many leaders the balance schedulers move per
	// tick (default 4 each).
	BalancePerTick int

	// CDCTables is how many tables the TiCDC captures of a cluster replicate (default 8;
	// negative means none).
	CDCTables int
	// CDCTablesPerTick is how many tables move off a draining capture, or between captures for
	// balance, per tick (default 4).
	CDCTablesPerTick int

	// DefaultVersion is reported when a pod image has no usable tag (default "v8.5.0").
	DefaultVersion string

	// MaxTicksPerAdvance caps how many ticks are replayed at once after a long pause; the rest
	// of the time is skipped (default 100000).
	MaxTicksPerAdvance int
}

func (o Options) withDefaults() Options {
	if o.Clock == nil {
		o.Clock = RealClock{}
	}
	if o.TickInterval <= 0 {
		o.TickInterval = time.Second
	}
	if o.DisconnectAfter <= 0 {
		o.DisconnectAfter = 20 * time.Second
	}
	if o.MaxStoreDownTime <= 0 {
		o.MaxStoreDownTime = 30 * time.Minute
	}
	if o.MaxReplicas <= 0 {
		o.MaxReplicas = 3
	}
	if o.Regions <= 0 {
		o.Regions = 64
	}
	if o.EvictLeaderPerTick <= 0 {
		o.EvictLeaderPerTick = 8
	}
	if o.RegionMovesPerTick <= 0 {
		o.RegionMovesPerTick = 8
	}
	if o.BalancePerTick <= 0 {
		o.BalancePerTick = 4
	}
	if o.CDCTables < 0 {
		o.CDCTables = 0
	} else if o.CDCTables == 0 {
		o.CDCTables = 8
	}
	if o.CDCTablesPerTick <= 0 {
		o.CDCTablesPerTick = 4
	}
	if o.DefaultVersion == "" {
		o.DefaultVersion = "v8.5.0"
	}
	if o.MaxTicksPerAdvance <= 0 {
		o.MaxTicksPerAdvance = 100000
	}
	return o
}
