// Included first by compute-bound kernel files: lets GCC use 512-bit vectors where the target has
// them. With -march=native on AVX-512 machines GCC otherwise prefers 256-bit vectors, which leaves
// about a third of the transcendental kernels' throughput unused (memory-bound kernels gain nothing).
#pragma once
#pragma GCC target("prefer-vector-width=512")
