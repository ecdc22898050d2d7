-- bench/launch.lua - what bench/launch.sh times through qlua, next to
-- bench/launch_floor (the same steps in bare C): launch QEMU with nothing
-- in it and its private QMP channel (negotiated by qlua), query-status,
-- quit, wait for the exit.
local vm = qemu.launch{
	machine = { type = "none" },
	knobs = { no_defaults = true },
	extra_args = { "-display", "none" },
}
assert(vm.qmp:execute("query-status"))
assert(vm.qmp:execute("quit"))
local st = assert(vm:wait(10))
assert(st.code == 0, "QEMU did not exit with code 0")
