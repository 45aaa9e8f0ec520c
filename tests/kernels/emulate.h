// emulate.h: run kernels/*.cu on the CPU, for tests on machines without a GPU.
//
// g++ force-includes this header ahead of a .cu file (-include emulate.h), so the same kernel
// source compiles as plain C++. It maps CUDA's keywords and built-in variables onto globals
// that emu::launch sets while it walks the grid, calling the kernel once per (block, thread):
//   __global__, __device__, __forceinline__  -> ordinary (inline) functions
//   threadIdx, blockIdx                      -> thread_local variables set per call
//   blockDim, gridDim                        -> globals set per launch
//   __shared__                               -> static: one copy, shared by the block's threads,
//                                               which is right because blocks run one at a time
//   __syncthreads()                          -> a barrier; kernels that use it are launched with
//                                               each block's threads as real std::threads
//   atomicAdd                                -> a read-modify-write under a mutex
//   min, max, powf, fabsf, fminf, fmaxf      -> std:: and <cmath>
// Kernels without __syncthreads run their threads one after another: that is one of the
// schedules a GPU may pick, and a kernel without barriers must not depend on which one it gets.
#pragma once

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static

using std::max;
using std::min;

struct uint3 {
    unsigned int x, y, z;
};
struct dim3 {
    unsigned int x, y, z;
};

inline dim3 gridDim, blockDim;
inline thread_local uint3 blockIdx, threadIdx;

namespace emu {

// All of a block's threads wait in wait() until the last one arrives; reusable round after round.
class Barrier {
  public:
    explicit Barrier(unsigned count) : count_(count) {}
    void wait() {
        std::unique_lock<std::mutex> lock(mutex_);
        unsigned round = round_;
        if (++arrived_ == count_) {
            arrived_ = 0;
            ++round_;
            all_arrived_.notify_all();
        } else {
            all_arrived_.wait(lock, [&] { return round_ != round; });
        }
    }

  private:
    std::mutex mutex_;
    std::condition_variable all_arrived_;
    unsigned count_, arrived_ = 0, round_ = 0;
};

inline Barrier* block_barrier = nullptr;  // set only while a threaded launch runs a block
inline std::mutex atomic_mutex;

// Run kernel() for every thread of every block. threaded: each block's threads are
// std::threads meeting at block_barrier (needed by kernels that call __syncthreads).
template <class Kernel>
void launch(dim3 grid, dim3 block, bool threaded, Kernel kernel) {
    gridDim = grid;
    blockDim = block;
    for (unsigned bz = 0; bz < grid.z; ++bz)
        for (unsigned by = 0; by < grid.y; ++by)
            for (unsigned bx = 0; bx < grid.x; ++bx) {
                uint3 b = {bx, by, bz};
                if (!threaded) {
                    blockIdx = b;
                    for (unsigned tz = 0; tz < block.z; ++tz)
                        for (unsigned ty = 0; ty < block.y; ++ty)
                            for (unsigned tx = 0; tx < block.x; ++tx) {
                                threadIdx = {tx, ty, tz};
                                kernel();
                            }
                    continue;
                }
                Barrier barrier(block.x * block.y * block.z);
                block_barrier = &barrier;
                std::vector<std::thread> threads;
                for (unsigned tz = 0; tz < block.z; ++tz)
                    for (unsigned ty = 0; ty < block.y; ++ty)
                        for (unsigned tx = 0; tx < block.x; ++tx)
                            threads.emplace_back([=] {
                                blockIdx = b;
                                threadIdx = {tx, ty, tz};
                                kernel();
                            });
                for (std::thread& t : threads) t.join();
                block_barrier = nullptr;
            }
}

}  // namespace emu

inline void __syncthreads() {
    if (emu::block_barrier == nullptr) {
        // The Python side picks threaded launches for every source that mentions
        // __syncthreads, so reaching this means that detection broke.
        std::fprintf(stderr, "emulate.h: __syncthreads() in a serial launch\n");
        std::abort();
    }
    emu::block_barrier->wait();
}

template <class T>
T atomicAdd(T* address, T value) {
    std::lock_guard<std::mutex> lock(emu::atomic_mutex);
    T old = *address;
    *address = old + value;
    return old;
}
