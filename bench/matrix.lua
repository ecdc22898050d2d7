-- bench/matrix.lua - what bench/matrix.sh times: a matrix of 16 cells (or
-- $MATRIX_CELLS), each QEMU -machine none with nothing in it: launched by the
-- runner (private QMP channel, captured console and stderr, logs in its run
-- directory), then the test does query-status and quit and waits for the
-- exit, the same steps as bench/launch_floor.  Run it as
--   ./qlua bench/matrix.lua -j 2 --out DIR
-- (any matrix option works; bench/matrix.sh adds nothing else).
local matrix = require "qemu.matrix"

local n = tonumber(os.getenv("MATRIX_CELLS") or "16")
local cells = {}
for i = 1, n do cells[i] = i end

return matrix {
  name = "bench",
  axes = { n = cells },
  timeout = 30,
  vm = function(cell)
    return { machine = { type = "none" }, knobs = { no_defaults = true } }
  end,
  test = function(vm, cell)
    assert(vm.qmp:execute("query-status"))
    assert(vm.qmp:execute("quit"))
    local st = assert(vm:wait(10))
    assert(st.code == 0, "QEMU did not exit with code 0")
  end,
}
