// im2col / col2im for convolution as a matrix product (Caffe's layout, batched).
//
//   x   (N, C, H, W)
//   col (N, C*KH*KW, OH*OW)   row c*KH*KW + kh*KW + kw, column oh*OW + ow holds
//                             x[n, c, oh*SH - PH + kh, ow*SW - PW + kw]  (0 where that is padding)
//   OH = (H + 2*PH - KH) / SH + 1,  OW likewise.
//
// Groups need no index arithmetic here: rows are channel-major, so group g's rows
// (channels g*C/G .. (g+1)*C/G - 1) are one contiguous slab and the caller views col as
// (N, G, C/G*KH*KW, OH*OW) for a batched matmul with w viewed as (G, F/G, C/G*KH*KW).

// One thread per (n, c, oh, ow): it copies its KH*KW window into one column of col.
extern "C" __global__ void im2col(const float* x, float* col, int N, int C, int H, int W,
                                  int KH, int KW, int SH, int SW, int PH, int PW, int OH, int OW) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= N * C * OH * OW) return;
    int ow = i % OW;
    int oh = (i / OW) % OH;
    int nc = i / (OW * OH);  // n * C + c
    const float* plane = x + nc * H * W;
    float* out = col + nc * KH * KW * OH * OW + oh * OW + ow;
    for (int kh = 0; kh < KH; ++kh) {
        int h = oh * SH - PH + kh;
        for (int kw = 0; kw < KW; ++kw) {
            int w = ow * SW - PW + kw;
            *out = (h >= 0 && h < H && w >= 0 && w < W) ? plane[h * W + w] : 0.0f;
            out += OH * OW;  // next row of col
        }
    }
}

// The adjoint of im2col: dx[n, c, h, w] = sum of every col entry that im2col copied from
// (n, c, h, w). Gathering (one thread per x element) instead of scattering per col entry
// needs no atomics and always sums in the same order, so results are deterministic.
extern "C" __global__ void col2im(const float* col, float* dx, int N, int C, int H, int W,
                                  int KH, int KW, int SH, int SW, int PH, int PW, int OH, int OW) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= N * C * H * W) return;
    int w = i % W;
    int h = (i / W) % H;
    int nc = i / (W * H);
    const float* rows = col + nc * KH * KW * OH * OW;
    float sum = 0.0f;
    for (int kh = 0; kh < KH; ++kh) {
        int th = h + PH - kh;  // = oh * SH for the output row whose window puts kh on h
        if (th < 0 || th % SH != 0 || th / SH >= OH) continue;
        for (int kw = 0; kw < KW; ++kw) {
            int tw = w + PW - kw;
            if (tw < 0 || tw % SW != 0 || tw / SW >= OW) continue;
            sum += rows[(kh * KW + kw) * OH * OW + (th / SH) * OW + tw / SW];
        }
    }
    dx[i] = sum;
}
