-- bench/dry_run.lua - the script `qlua -n` runs in the whole-process benchmark.
return dofile((arg[0]:gsub("dry_run%.lua$", "typical.lua")))()
