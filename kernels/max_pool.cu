// Max pooling, Caffe semantics. x (NC, H, W) with NC = N*C planes, y and argmax (NC, OH, OW).
// Window of output (oh, ow): rows oh*SH - PH .. oh*SH - PH + KH - 1, clipped to the image, so
// padding never wins (Caffe pads max pooling with -inf, not 0). OH/OW come from the caller
// (Caffe's ceil rule with its clip, see minidream/engine/ops/pool_shape.py).

// Largest finite float: the running max starts below every real input, as in Caffe.
#define NEG_FLT_MAX (-3.402823466e+38f)

// One thread per output: y = max over the window; argmax = its flat index h*W + w in the
// plane, the first one on ties (strict >), which backward uses to route the gradient.
extern "C" __global__ void max_pool_forward(const float* x, float* y, int* argmax, int NC, int H,
                                            int W, int KH, int KW, int SH, int SW, int PH, int PW,
                                            int OH, int OW) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= NC * OH * OW) return;
    int ow = i % OW;
    int oh = (i / OW) % OH;
    const float* plane = x + (i / (OW * OH)) * H * W;
    int hstart = max(oh * SH - PH, 0), hend = min(oh * SH - PH + KH, H);
    int wstart = max(ow * SW - PW, 0), wend = min(ow * SW - PW + KW, W);
    float best = NEG_FLT_MAX;
    int best_at = -1;
    for (int h = hstart; h < hend; ++h)
        for (int w = wstart; w < wend; ++w)
            if (plane[h * W + w] > best) {
                best = plane[h * W + w];
                best_at = h * W + w;
            }
    y[i] = best;
    argmax[i] = best_at;
}

// One thread per input pixel: dx = sum of dy over the outputs whose argmax is this pixel.
// Only outputs oh in [phstart, phend) have windows that can reach row h (ow likewise):
//   oh*SH - PH <= h < oh*SH - PH + KH.
// Gathering instead of scattering dy to argmax needs no atomics and is deterministic.
extern "C" __global__ void max_pool_backward(const float* dy, const int* argmax, float* dx, int NC,
                                             int H, int W, int KH, int KW, int SH, int SW, int PH,
                                             int PW, int OH, int OW) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= NC * H * W) return;
    int w = i % W;
    int h = (i / W) % H;
    int offset = (i / (W * H)) * OH * OW;
    int phstart = (h + PH < KH) ? 0 : (h + PH - KH) / SH + 1, phend = min((h + PH) / SH + 1, OH);
    int pwstart = (w + PW < KW) ? 0 : (w + PW - KW) / SW + 1, pwend = min((w + PW) / SW + 1, OW);
    float sum = 0.0f;
    for (int oh = phstart; oh < phend; ++oh)
        for (int ow = pwstart; ow < pwend; ++ow)
            if (argmax[offset + oh * OW + ow] == h * W + w) sum += dy[offset + oh * OW + ow];
    dx[i] = sum;
}
