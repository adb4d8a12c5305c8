// The pipeline's object types are used by every cmdlet (and by the handle factories beside them).
global using ChatVector.PowerShell.Output;
