// ReLU with Caffe's negative_slope (leaky when > 0), one thread per element.
//   forward:  y = x > 0 ? x : negative_slope * x
//   backward: dx = dy * (x > 0 ? 1 : negative_slope)
// Backward reads x rather than y: the two agree on the sign for every slope >= 0, and x is what
// the NumPy layer caches too.

extern "C" __global__ void relu_forward(const float* x, float* y, int n, float negative_slope) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    y[i] = x[i] > 0.0f ? x[i] : negative_slope * x[i];
}

extern "C" __global__ void relu_backward(const float* x, const float* dy, float* dx, int n,
                                         float negative_slope) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    dx[i] = x[i] > 0.0f ? dy[i] : negative_slope * dy[i];
}
