// gather.c: what AVX-512 gathers and scatters of 8 floats cost on this CPU beside a vector load and
// 8 scalar stores (20 M iterations each, ns an iteration): whether lavapipe's per-lane storage-buffer
// loops are worth replacing by llvm.masked.gather / scatter (lavapipe-ssbo-gather.patch).
//   gcc -O2 -mavx512f -mavx512vl -o /tmp/gather tools/prof/gather.c && /tmp/gather
#include <immintrin.h>
#include <stdio.h>
#include <stdint.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(){
  static float buf[1<<16];
  for(int i=0;i<1<<16;i++)buf[i]=i;
  __m512i idx=_mm512_set_epi64(7,6,5,4,3,2,1,0);
  __m256 acc=_mm256_setzero_ps();
  int N=20000000;
  double t=now();
  for(int i=0;i<N;i++){
    __m512i o=_mm512_add_epi64(idx,_mm512_set1_epi64((i*8)&0xfff8));
    __m256 v=_mm512_i64gather_ps(o,buf,4);
    acc=_mm256_add_ps(acc,v);
  }
  double g=now()-t;
  t=now();
  for(int i=0;i<N;i++){
    int b=(i*8)&0xfff8;
    __m256 v=_mm256_loadu_ps(buf+b);
    acc=_mm256_add_ps(acc,v);
  }
  double l=now()-t;
  float o[8];_mm256_storeu_ps(o,acc);
  __m512i oi=idx;
  t=now();
  for(int i=0;i<N;i++){
    __m512i off=_mm512_add_epi64(oi,_mm512_set1_epi64((i*8)&0xfff8));
    _mm512_i64scatter_ps(buf,off,_mm256_set1_ps((float)i),4);
  }
  double s=now()-t;
  t=now();
  volatile float *vb=buf;
  for(int i=0;i<N;i++){int b=(i*8)&0xfff8; for(int k=0;k<8;k++) vb[b+k]=(float)i;}
  double sc=now()-t;
  printf("gather8 %.2f ns, vload %.2f ns, scatter8 %.2f ns, 8 scalar stores %.2f ns (%f)\n",g/N*1e9,l/N*1e9,s/N*1e9,sc/N*1e9,o[0]);
}
