// Kernels that only give the right answer if the CPU emulation is faithful: a block's threads
// must share __shared__ memory, really wait for each other at __syncthreads, and add atomically.
// Used by tests/kernels/test_emulation.py; nvcc compiles it too, like kernels/*.cu.

// Reverses each block's 64 values through shared memory: thread t reads what thread 63 - t
// wrote, which is only there if every thread has passed the barrier.
extern "C" __global__ void reverse_in_block(const float* x, float* y) {
    __shared__ float tile[64];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    tile[threadIdx.x] = x[i];
    __syncthreads();
    y[i] = tile[blockDim.x - 1 - threadIdx.x];
}

// count[0] += number of positive x, from every thread at once.
extern "C" __global__ void count_positive(const float* x, int* count, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n && x[i] > 0.0f) atomicAdd(count, 1);
}
