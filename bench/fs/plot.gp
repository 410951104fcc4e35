# plot.gp - draws bench/fs/run.sh's result: pmemfs's speed relative to each
# reference, one group of bars per workload, on a log scale where 1 means
# "as fast as the reference".
#   gnuplot -e "datafile='plot.dat'; outfile='fsbench.png'; subtitle='...'" plot.gp
set terminal png size 1400,700 noenhanced
set output outfile
set title "pmemfs speed relative to each reference (>1: pmemfs faster)\n".subtitle
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y 2
set yrange [0.01:*]
set ylabel "pmemfs / reference (log scale)"
set grid ytics
set xtics rotate by -30 nomirror
set datafile missing "NaN"
set key top right
plot datafile using 2:xtic(1) title "vs R0 FUSE null", \
     '' using 3 title "vs R1 passthrough_ll", \
     '' using 4 title "vs R2 passthrough_ll -o writeback", \
     '' using 5 title "vs R3 raw tmpfs", \
     1 with lines lw 2 lc rgb "black" notitle
