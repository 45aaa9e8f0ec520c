// Local response normalization across channels (AlexNet, Krizhevsky et al. 2012, section 3.3),
// with Caffe's parameters. x, y, scale are (N, C, HW); for channel c the window is
//   c - pre .. c + post,  pre = (size - 1) / 2,  post = size - 1 - pre  (clipped to 0 .. C-1)
//   scale_c = k + alpha / size * sum over the window of x_c'^2
//   y_c     = x_c * scale_c^(-beta)
// and backward, differentiating through every scale_c' whose window holds c:
//   dx_c = dy_c * scale_c^(-beta)
//          - 2 * alpha * beta / size * x_c * sum_{c' = c - post .. c + pre} dy_c' * y_c' / scale_c'
//
// Both kernels are fused: one thread per element computes everything for that element in
// one pass (forward: its scale and output; backward: its whole gradient). Each thread sums its
// own window directly instead of Caffe's running sum along the channels: the windows are a few
// channels wide, neighbouring threads share the reads through the cache, and a running sum
// that subtracts what leaves the window loses precision after a large value passes through.

extern "C" __global__ void lrn_forward(const float* x, float* y, float* scale, int N, int C, int HW,
                                       int size, float alpha, float beta, float k) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= N * C * HW) return;
    int c = (i / HW) % C;
    const float* column = x + i - c * HW;  // channel 0 at this (n, h, w); channels are HW apart
    int pre = (size - 1) / 2, post = size - 1 - pre;
    float sum = 0.0f;
    for (int j = max(c - pre, 0); j <= min(c + post, C - 1); ++j) sum += column[j * HW] * column[j * HW];
    float s = k + alpha / size * sum;
    scale[i] = s;
    y[i] = x[i] * powf(s, -beta);
}

extern "C" __global__ void lrn_backward(const float* x, const float* y, const float* scale,
                                        const float* dy, float* dx, int N, int C, int HW, int size,
                                        float alpha, float beta) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= N * C * HW) return;
    int c = (i / HW) % C;
    int first = i - c * HW;  // index of channel 0 at this (n, h, w)
    int pre = (size - 1) / 2, post = size - 1 - pre;
    float sum = 0.0f;
    for (int j = max(c - post, 0); j <= min(c + pre, C - 1); ++j) {
        int at = first + j * HW;
        sum += dy[at] * y[at] / scale[at];
    }
    dx[i] = dy[i] * powf(scale[i], -beta) - 2.0f * alpha * beta / size * x[i] * sum;
}
