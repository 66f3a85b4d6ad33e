# Root inputs that are not in the stage file.

variable "enable_composite_alarm" {
  description = "Create the composite service-health alarm (the local emulator lacks composite alarms and turns it off)."
  type        = bool
  default     = true
}
