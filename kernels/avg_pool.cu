// Average pooling, Caffe semantics. x (NC, H, W) with NC = N*C planes, y (NC, OH, OW).
// Caffe's divisor: the window is first clipped to the *padded* image (H + PH rows), its size
// taken as the divisor, and only then clipped to the real image for the sum. So padding
// counts as zeros, but the part of a ceil-mode window hanging past the padding does not.

// Divisor of output (oh, ow): its window's area within the padded image.
static __device__ __forceinline__ int avg_pool_divisor(int oh, int ow, int H, int W, int KH,
                                                        int KW, int SH, int SW, int PH, int PW) {
    int hstart = oh * SH - PH, hend = min(hstart + KH, H + PH);
    int wstart = ow * SW - PW, wend = min(wstart + KW, W + PW);
    return (hend - hstart) * (wend - wstart);
}

// One thread per output: y = (sum of the window within the image) / divisor.
extern "C" __global__ void avg_pool_forward(const float* x, float* y, int NC, int H, int W, int KH,
                                            int KW, int SH, int SW, int PH, int PW, int OH,
                                            int OW) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= NC * OH * OW) return;
    int ow = i % OW;
    int oh = (i / OW) % OH;
    const float* plane = x + (i / (OW * OH)) * H * W;
    int hstart = max(oh * SH - PH, 0), hend = min(oh * SH - PH + KH, H);
    int wstart = max(ow * SW - PW, 0), wend = min(ow * SW - PW + KW, W);
    float sum = 0.0f;
    for (int h = hstart; h < hend; ++h)
        for (int w = wstart; w < wend; ++w) sum += plane[h * W + w];
    y[i] = sum / avg_pool_divisor(oh, ow, H, W, KH, KW, SH, SW, PH, PW);
}

// One thread per input pixel: dx = sum over the outputs whose window holds the pixel of
// dy / divisor. Those outputs are oh in [phstart, phend) (see max_pool.cu), ow likewise.
extern "C" __global__ void avg_pool_backward(const float* dy, float* dx, int NC, int H, int W,
                                             int KH, int KW, int SH, int SW, int PH, int PW,
                                             int OH, int OW) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= NC * H * W) return;
    int w = i % W;
    int h = (i / W) % H;
    const float* plane = dy + (i / (W * H)) * OH * OW;
    int phstart = (h + PH < KH) ? 0 : (h + PH - KH) / SH + 1, phend = min((h + PH) / SH + 1, OH);
    int pwstart = (w + PW < KW) ? 0 : (w + PW - KW) / SW + 1, pwend = min((w + PW) / SW + 1, OW);
    float sum = 0.0f;
    for (int oh = phstart; oh < phend; ++oh)
        for (int ow = pwstart; ow < pwend; ++ow)
            sum += plane[oh * OW + ow] / avg_pool_divisor(oh, ow, H, W, KH, KW, SH, SW, PH, PW);
    dx[i] = sum;
}
