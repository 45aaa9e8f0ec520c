// ReLU with Caffe's negative_slope (leaky when > 0), one thread per element.
//   forward:  y = x > 0 ? x : negative_slope * x
//   backward: dx = dy * (y > 0 ? 1 : negative_slope)
//            (x > 0 exactly where y > 0 for slope >= 0, so backward reads y: forward may have
//            overwritten x in place, as the Net does when nothing else reads x)

extern "C" __global__ void relu_forward(const float* x, float* y, int n, float negative_slope) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    y[i] = x[i] > 0.0f ? x[i] : negative_slope * x[i];
}

extern "C" __global__ void relu_backward(const float* y, const float* dy, float* dx, int n,
                                         float negative_slope) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    dx[i] = y[i] > 0.0f ? dy[i] : negative_slope * dy[i];
}
