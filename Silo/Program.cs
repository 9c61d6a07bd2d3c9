using GroupPay.ServiceDefaults;
using GroupPay.Silo;

// An invalid setting: one line naming its key ("GroupPay silo refuses to start: …") and exit code 1.
return await ServiceDefaultsExtensions.RunOrRefuseAsync("silo", () => SiloHost.Create(args));
