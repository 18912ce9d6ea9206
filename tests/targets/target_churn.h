// --churn: a thread ("sd-churn") that keeps creating and joining short-lived threads
// ("sd-churn-child"), so captures race with thread creation and exit.
#pragma once

namespace sdtarget {

void start_churn();

}  // namespace sdtarget
