// The dream step's own kernels: gradient ascent with a normalized step.
//
//   x <- clip(x + step_size / mean(|g|) * g, lo_c, hi_c)   per channel c
//
// mean(|g|) is a reduction, done on the device so the step never waits for the host:
// abs_sum runs twice, first over g (one partial sum per block), then over those partials
// with a single block (partials are >= 0, so |.| leaves them alone); dream_update reads the
// total from device memory.

// Sum of |x| over n elements; block b writes its share to out[b]. Each thread accumulates a
// grid-stride slice, then the block adds its 256 values by halving in shared memory.
// Launch with blockDim.x == 256 (the shared array's size; a power of two for the halving).
extern "C" __global__ void abs_sum(const float* x, float* out, int n) {
    __shared__ float partial[256];
    int t = threadIdx.x;
    float acc = 0.0f;
    for (int i = blockIdx.x * blockDim.x + t; i < n; i += blockDim.x * gridDim.x) acc += fabsf(x[i]);
    partial[t] = acc;
    __syncthreads();
    for (int half = blockDim.x / 2; half > 0; half /= 2) {
        if (t < half) partial[t] += partial[t + half];
        __syncthreads();  // every add of this round lands before the next round reads it
    }
    if (t == 0) out[blockIdx.x] = partial[0];
}

// x, g (n elements, channel c = (i / HW) % C); total = [sum |g|]; lo, hi (C,).
// A zero gradient moves nothing (instead of 0/0 = NaN).
extern "C" __global__ void dream_update(float* x, const float* g, const float* total,
                                        const float* lo, const float* hi, int n, int C, int HW,
                                        float step_size) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float mean = total[0] / n;
    float step = mean > 0.0f ? step_size / mean : 0.0f;
    int c = (i / HW) % C;
    x[i] = fminf(fmaxf(x[i] + step * g[i], lo[c]), hi[c]);
}
