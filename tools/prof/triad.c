// triad.c: the memory bandwidth two vCPUs get, as a STREAM-like triad c = a + 1.5 b over three 128 MiB
// arrays (bytes counted: 3 x 128 MiB a pass; C's write-allocate read not counted), five passes.
//   gcc -O3 -march=native -fopenmp -o /tmp/triad tools/prof/triad.c && OMP_NUM_THREADS=2 /tmp/triad
// BENCHMARKS.md (2026-12-02) uses it to bound width 16's Winograd GEMMs by the bytes they move.
#include <stdio.h>
#include <stdlib.h>
#include <omp.h>
int main(){
  size_t n=1<<25; /* 128 MiB per array */
  float *a=aligned_alloc(64,n*4),*b=aligned_alloc(64,n*4),*c=aligned_alloc(64,n*4);
  #pragma omp parallel for
  for(size_t i=0;i<n;i++){a[i]=1;b[i]=2;c[i]=0;}
  for(int r=0;r<5;r++){
    double t=omp_get_wtime();
    #pragma omp parallel for
    for(size_t i=0;i<n;i++) c[i]=a[i]+1.5f*b[i];
    t=omp_get_wtime()-t;
    printf("triad %.1f GB/s (3 x 128 MiB)\n", 3.0*n*4/t/1e9);
  }
  return c[7]>0?0:1;
}
