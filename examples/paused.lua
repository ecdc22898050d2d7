-- examples/paused.lua - start examples/hello.lua's VM for real, paused (-S),
-- show that QEMU took the command line, then stop it.
local vm_desc = dofile((arg[0]:gsub("paused%.lua$", "hello.lua")))
vm_desc.knobs.stopped = true

local vm = qemu.launch(vm_desc, { stderr = "capture" })
print(("started %s (pid %d), paused"):format(vm.argv[1], vm.pid))
local status = vm:wait(1)
if status then
  io.stderr:write("QEMU exited at once:\n", vm:stderr())
  os.exit(1)
end
print("QEMU accepted the command line and is running; stopping it")
vm:kill()
status = vm:wait(10)
print(("QEMU ended with %s"):format(status.signal and "signal " .. status.signal or "code " .. status.code))
