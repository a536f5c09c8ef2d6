# Inputs of the AWS native target (build: native). ImageForge.Providers.Aws passes them with a generated var file
# (docs/aws.md, "build: native"); run by hand, give the required ones with -var or a var file of your own.

variable "build_id" {
  type        = string
  description = "ImageForge build id: in the AMI's tags and manifest.json."
}

variable "image_name" {
  type        = string
  description = "Image definition name: in the AMI's tags and manifest.json."
}

variable "ami_name" {
  type        = string
  description = "Name of the AMI (unique per account and region)."
}

variable "region" {
  type        = string
  description = "Home region: the instance runs and the AMI is made here."
}

variable "ami_regions" {
  type        = list(string)
  default     = []
  description = "Regions other than the home region the AMI is copied to."
}

variable "source_ami" {
  type        = string
  default     = ""
  description = "An AMI id to build from; \"\" to use source_ami_name and source_ami_owner."
}

variable "source_ami_name" {
  type        = string
  default     = ""
  description = "AMI name filter (wildcards * ?): the most recent match of source_ami_owner is the source."
}

variable "source_ami_owner" {
  type        = string
  default     = ""
  description = "Account id (or amazon, self, aws-marketplace) that owns the source AMI."
}

variable "instance_type" {
  type    = string
  default = "t3.small"
}

variable "subnet_id" {
  type        = string
  default     = ""
  description = "Subnet of the build instance; \"\" for the default VPC."
}

variable "ssh_username" {
  type    = string
  default = "admin"
}

variable "ssh_port" {
  type        = number
  default     = 22
  description = "Port of the instance's sshd (tests point it at a local instance's loopback port)."
}

variable "encrypt" {
  type        = bool
  default     = true
  description = "Encrypt the AMI's snapshots (with kms_key_id, else the account's default EBS key)."
}

variable "kms_key_id" {
  type        = string
  default     = ""
  description = "KMS key of the home region's AMI; \"\" for the account's default EBS key."
}

variable "region_kms_key_ids" {
  type        = map(string)
  default     = {}
  description = "KMS key per copy region."
}

variable "ami_users" {
  type        = list(string)
  default     = []
  description = "Accounts given launch permission at build time (ImageForge itself shares per channel at promotion)."
}

variable "custom_endpoint_ec2" {
  type        = string
  default     = ""
  description = "EC2 endpoint; \"\" in production (AWS's own). Set, it also skips the credential and metadata checks, which would reach AWS's STS and the instance metadata service."
}

variable "access_key" {
  type        = string
  default     = ""
  sensitive   = true
  description = "\"\" to let Packer read AWS's environment and profiles; ImageForge passes the credentials it resolved (through PKR_VAR_, never an argument)."
}

variable "secret_key" {
  type      = string
  default   = ""
  sensitive = true
}

variable "token" {
  type      = string
  default   = ""
  sensitive = true
}

variable "output_dir" {
  type        = string
  description = "Local directory the evidence is downloaded into (absolute); manifest.json goes there too."
}

variable "hardening_dir" {
  type        = string
  description = "Hardening profile to run, e.g. <repo>/hardening/cis/debian-11; the rule library is <hardening_dir>/../../lib."
}

variable "scap_datastream" {
  type        = string
  description = "SCAP datastream on this machine (absolute); uploaded to the instance."
}

variable "scap_profile" {
  type        = string
  description = "XCCDF profile id to evaluate (the tailored profile's id when scap_tailoring is set)."
}

variable "scap_tailoring" {
  type        = string
  default     = ""
  description = "XCCDF tailoring file on this machine; \"\" for none."
}
